"""Speed of answer: business hours, SLA policies and the clocks they set on conversations.

- models: BusinessHours (a calendar) and SlaPolicy (targets, conditions, order);
- business_hours: a calendar's validation and its arithmetic form (a Calendar);
- administration: an admin's changes to calendars and policies;
- policies: which policy applies to a conversation, from a short-lived process cache;
- clock: a conversation's due times as it opens, is answered, waits, and changes;
- breaches: the beat sweep that marks missed targets once and tells operators;
- due_soon: the beat sweep that warns a conversation's operators of a target coming due.
The calendar arithmetic itself is inbox.selectors.business_time (pure functions).
"""
