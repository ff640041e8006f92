from channels_app.management.meta_subscribe import SubscribeCommand


class Command(SubscribeCommand):
    help = (
        "Subscribe a Messenger channel's page to the app's webhook fields (messages, "
        "postbacks, deliveries, reads, echoes, reactions, edits) through the Graph API."
    )
    kind = "messenger"
