"""chatmock benchmarks: ``python bench/run.py`` (see BENCHMARKS.md). Never run by pytest."""
