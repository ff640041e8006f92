from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    ordering: str | tuple[str, ...] = "-id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class ConversationCursorPagination(CreatedCursorPagination):
    ordering = ("-last_message_at", "-id")


class ChronologicalCursorPagination(CreatedCursorPagination):
    ordering = "id"
