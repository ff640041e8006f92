"""Writes on conversations and messages, one module per flow. Each write notifies
operators after commit. Other apps and tests call them through this package:
`from inbox import services; services.message_reply(...)`.

- receiving an inbound message: inbox.receiving (regular and batched paths)
- reply: an operator's reply or private note
- idempotent_replies: a reply sent once per Idempotency-Key
- delivery: our replies' delivery state, retries, read marks
- sending: a send claimed by one task; sends cut off mid-way settled
- inbound_updates: edits and deletions of a customer's message, their reactions, files
  fetched
- assignment: operator and team, by hand and automatically
- conversation_actions: resolve, reopen, snooze, priority
- bulk_actions: one of those actions (or labels) on many conversations at once
- merge: customer profiles merged with their conversations
- presence: operators online, away, offline
- task_outbox: tasks queued after commit, recorded with their cause
"""

from inbox.receiving.regular import ReceiveOutcome, message_receive
from inbox.receiving.stored import AUTO_ASSIGN_TASK, conversation_auto_assign_on_commit
from inbox.services.assignment import (
    UNSET,
    conversation_assign,
    conversation_assign_by_turns,
    conversation_auto_assign,
    operator_can_serve,
)
from inbox.services.bulk_actions import (
    BULK_ACTION_MAX_CONVERSATIONS,
    BULK_ACTIONS,
    BulkActionParameters,
    BulkActionResult,
    conversations_bulk_act,
)
from inbox.services.conversation_actions import (
    ConversationActionInvalid,
    conversation_reopen,
    conversation_resolve,
    conversation_set_priority,
    conversation_snooze,
    conversations_wake_snoozed,
)
from inbox.services.delivery import (
    delivery_retry_ceiling,
    delivery_retry_delay,
    message_retry_delivery,
    message_update_status,
    messages_mark_read_by_operator,
    messages_requeue_stuck,
)
from inbox.services.idempotent_replies import (
    IdempotencyKeyReused,
    ReplyAnswer,
    message_reply_once,
    reply_idempotency_keys_forget_expired,
)
from inbox.services.inbound_updates import (
    attachment_record_fetch_failure,
    attachment_store_media,
    message_delete_inbound,
    message_edit_inbound,
    message_react_inbound,
)
from inbox.services.merge import (
    customer_merge_undo_with_conversations,
    customer_merge_with_conversations,
)
from inbox.services.presence import operator_presence_set
from inbox.services.reply import message_reply
from inbox.services.sending import (
    message_claim_for_sending,
    message_record_delivery_attempt,
    message_record_progress,
    message_release_claim,
    messages_settle_stale_sending,
)
from inbox.task_outbox import task_send_on_commit, tasks_send_on_commit

__all__ = [
    "AUTO_ASSIGN_TASK",
    "BULK_ACTIONS",
    "BULK_ACTION_MAX_CONVERSATIONS",
    "UNSET",
    "BulkActionParameters",
    "BulkActionResult",
    "ConversationActionInvalid",
    "IdempotencyKeyReused",
    "ReceiveOutcome",
    "ReplyAnswer",
    "attachment_record_fetch_failure",
    "attachment_store_media",
    "conversation_assign",
    "conversation_assign_by_turns",
    "conversation_auto_assign",
    "conversation_auto_assign_on_commit",
    "conversation_reopen",
    "conversation_resolve",
    "conversation_set_priority",
    "conversation_snooze",
    "conversations_bulk_act",
    "conversations_wake_snoozed",
    "customer_merge_undo_with_conversations",
    "customer_merge_with_conversations",
    "delivery_retry_ceiling",
    "delivery_retry_delay",
    "message_claim_for_sending",
    "message_delete_inbound",
    "message_edit_inbound",
    "message_react_inbound",
    "message_receive",
    "message_record_delivery_attempt",
    "message_record_progress",
    "message_release_claim",
    "message_reply",
    "message_reply_once",
    "message_retry_delivery",
    "message_update_status",
    "messages_mark_read_by_operator",
    "messages_requeue_stuck",
    "messages_settle_stale_sending",
    "operator_can_serve",
    "operator_presence_set",
    "reply_idempotency_keys_forget_expired",
    "task_send_on_commit",
    "tasks_send_on_commit",
]
