from channels_app.management.meta_subscribe import SubscribeCommand


class Command(SubscribeCommand):
    help = (
        "Subscribe an Instagram channel's account to the app's webhook fields (messages, "
        "postbacks, seen, reactions) through the Graph API."
    )
    kind = "instagram"
