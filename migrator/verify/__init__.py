"""`migrator verify`: did the merged fix make the release work? Facts (read in bulk by `migrator.github.verify`)
go in, verdicts with their evidence come out (`verdict.judge`, pure)."""
