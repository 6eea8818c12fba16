"""Entry points and I/O around the analytics core: the snapshot store, the refresh job, the scheduler."""
