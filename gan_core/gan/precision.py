"""Whether this machine computes bfloat16 natively: decided from what the hardware reports, not assumed.

bf16 autocast on a CPU without bf16 instructions is emulated and slow (0.08x fp32 on an AVX2-only
EPYC); with AVX512_BF16 or AMX it can be faster than fp32. CUDA devices say so themselves.
"""

from __future__ import annotations

from pathlib import Path

import torch

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 arithmetic


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def native_bf16(device: torch.device | str) -> tuple[bool, str]:
    """(native, why): whether ``device`` computes bf16 in hardware, with the evidence in words."""
    device = torch.device(device)
    if device.type == "cuda":
        ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return ok, f"torch.cuda.is_bf16_supported() is {ok}"
    found = sorted(cpu_flags() & set(CPU_BF16_FLAGS))
    capability = torch.backends.cpu.get_cpu_capability()
    if found:
        return True, f"CPU flags {', '.join(found)} (torch CPU capability {capability})"
    return False, f"no {' / '.join(CPU_BF16_FLAGS)} in /proc/cpuinfo (torch CPU capability {capability})"


# Devices on which bf16's quality was checked against fp32 (3 seeds x 100 epochs of ``stable``: FID, IS and
# class coverage no worse than fp32's within their spread; docs/performance.md, "bf16"). Checked on a CPU
# with AMX and AVX512_BF16; no CUDA device has been checked yet, so ``auto`` means fp32 there.
BF16_QUALITY_CHECKED: frozenset[str] = frozenset({"cpu"})


def resolve_precision(precision: str, device: torch.device | str) -> tuple[str, str]:
    """(fp32 or bf16, why) for a config's ``precision`` on ``device``; explicit choices are kept."""
    if precision != "auto":
        return precision, "asked for"
    device = torch.device(device)
    native, why = native_bf16(device)
    if not native:
        return "fp32", f"bf16 is not native here: {why}"
    if device.type not in BF16_QUALITY_CHECKED:
        return "fp32", f"bf16 is native ({why}) but its quality was not checked on {device.type} yet"
    return "bf16", why
