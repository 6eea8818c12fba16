"""The Dash dashboard: reads published snapshots only (through dashboard.data), never recomputes."""
