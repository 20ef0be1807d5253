"""`migrator report`: the campaign as a picture (a burndown, a table per state, the evidence for every broken
repository), as a self-contained HTML page or as Markdown for a job summary or a tracking issue."""
