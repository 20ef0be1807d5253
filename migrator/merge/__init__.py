"""`migrator merge`: deciding, merging (journaled, resumable) and merging in verified waves."""
