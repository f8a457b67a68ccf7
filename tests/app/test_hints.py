"""The sidebar's look of each config field (increment, format, folding) is the UI's table, complete: the
library's field metadata keeps only range, choices and help."""

from __future__ import annotations

import dataclasses

from gan_core.config import FieldSpec, fields
from ganlab.widgets.sidebar import HINTS


def test_every_config_field_has_a_hint_and_every_number_box_a_step_and_format() -> None:
    assert list(HINTS) == [spec.name for spec in fields()]
    for spec in fields():
        look = HINTS[spec.name]
        if spec.kind in (int, float) and not spec.choices:
            assert look.step is not None and look.step > 0, spec.name
            assert (look.format is None) == (spec.kind is int), spec.name
        else:
            assert look.step is None and look.format is None, spec.name


def test_the_library_field_metadata_carries_no_widget_hints() -> None:
    assert not {"advanced", "step", "format"} & {f.name for f in dataclasses.fields(FieldSpec)}
