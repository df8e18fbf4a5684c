"""Everything about the old systems' data: readers, normalisers, writer, report, split, demo."""
