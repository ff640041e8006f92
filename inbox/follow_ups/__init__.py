"""Low survey scores followed up: a poor CSAT (1-2), CES (1-3) or NPS (0-6) answer opens
one follow-up task per survey, assigned as the installation's settings say, and the task's
outcome is kept with the survey.

- models: the settings row and the follow-up rows
- settings: reading and changing the settings
- opening: the follow-up opened after a poor answer (a task, once per survey)
- outcome: how it ended (resolved by whom and when, or an operator's note)
"""
