"""Issue 24's model matrix (mlp / dcgan x unconditional / conditional): ``python -m bench.models`` (see its
``__main__``), which writes the table of docs/models.md and the sheets under docs/models/."""
