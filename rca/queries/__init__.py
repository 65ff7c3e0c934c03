"""The read side shared by CLI, API, dashboard and e-mail: one module per question answered."""
