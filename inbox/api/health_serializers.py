"""The shape of `customer.health` (inbox.selectors.customer_health), for the schema."""

from rest_framework import serializers

from customers.models import HealthRisk


class LatestScoreSerializer(serializers.Serializer):
    rating = serializers.IntegerField()
    answered_at = serializers.DateTimeField()


class CustomerHealthSerializer(serializers.Serializer):
    risk = serializers.ChoiceField(choices=HealthRisk.values)
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="the signals that weighed: poor_csat, poor_ces, poor_nps, frequent_contacts, "
        "reopened_conversations, channel_switches, unanswered",
    )
    last_csat = LatestScoreSerializer(allow_null=True)
    last_ces = LatestScoreSerializer(allow_null=True)
    last_nps = LatestScoreSerializer(allow_null=True)
    contacts_30_days = serializers.IntegerField()
    contacts_90_days = serializers.IntegerField()
    reopened_conversations = serializers.IntegerField(help_text="in the last 90 days")
    channel_switches = serializers.IntegerField(
        help_text="in the last 90 days: a conversation opened on another channel within 3 "
        "days of the previous one's last message"
    )
    unanswered_seconds = serializers.IntegerField(
        allow_null=True, help_text="how long the customer has been waiting for a reply"
    )
