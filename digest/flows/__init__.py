"""The workflows: the only code that chains stages and storage (make, review and send an issue, act on what
comes back, signup notices). Entry points call these; stages never do."""
