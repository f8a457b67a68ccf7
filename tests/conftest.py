import sys
from pathlib import Path

# Tests import the project from the repository root, whichever folder pytest is started in.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
