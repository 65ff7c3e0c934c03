"""The weekly emerging-spike e-mail (issue 7): gather → content → charts → render → message → send.

`gather` is the only module that reads the store for content, `ledger` the only one that
writes (the `reports_sent` rows), `smtp` the only one on the network; `content`, `charts`,
`render` and `message` are pure, so the same report can be sent, written to disk for a dry run,
or screenshotted. `job.run_report` ties them together for the CLI and the scheduler.
"""
