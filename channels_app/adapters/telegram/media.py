"""Files customers send a Telegram bot: fetched after the message is stored."""

import httpx

from channels_app.adapters.telegram.bot_api import BotApi, failure_for_answer, transport_failure
from channels_app.contracts import DeliveryFailed, MediaContent
from channels_app.http import body_within_limit, http_client

# The Bot API lets bots download files of up to 20 MB; a local Bot API server (another
# api_base_url) serves larger ones, which are refused past this.
MAX_MEDIA_BYTES = 50 * 1024 * 1024


def media_fetch(bot: BotApi, file_id: str) -> MediaContent:
    """getFile, then download the file. Filename and type are left empty, so the
    attachment keeps the ones the message gave."""
    file = bot.call("getFile", {"file_id": file_id})
    file_path = file.get("file_path") if isinstance(file, dict) else None
    if not isinstance(file_path, str) or not file_path:
        raise DeliveryFailed(
            "Telegram gave no file_path for the file (it may be over the 20 MB bots can download)",
            is_retryable=False,
        )
    url = f"{bot.api_base_url}/file/bot{bot.bot_token}/{file_path}"
    try:
        with http_client().stream("GET", url) as response:
            if response.status_code != 200:
                response.read()
                raise failure_for_answer(response, action="file download")
            content = body_within_limit(response, max_bytes=MAX_MEDIA_BYTES)
    except httpx.HTTPError as error:
        raise transport_failure(error) from error
    return MediaContent(content=content, content_type="", filename="")
