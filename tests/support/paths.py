"""Where the repository and its git-ignored runtime folder are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".data"
SCRIPTS_DIR = ROOT / "scripts"
