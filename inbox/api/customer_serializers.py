"""The API's customer shapes: profiles with their identities, merges and exports."""

from django.conf import settings
from rest_framework import serializers

from customers.models import Customer
from inbox.api.health_serializers import CustomerHealthSerializer
from inbox.api.serializers import ConversationOutputSerializer
from inbox.representations import conversation_representation, customer_representation


class IdentityOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()
    is_reachable = serializers.BooleanField()
    username = serializers.CharField(
        help_text="The person's handle on the platform (VK's screen name); \"\" if none."
    )
    avatar_url = serializers.CharField(
        help_text='The picture the platform shows for the person (Viber\'s avatar); "" if none.'
    )


class ClaimOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()


class CustomerOutputSerializer(serializers.ModelSerializer):
    identities = IdentityOutputSerializer(many=True, read_only=True)
    claims = ClaimOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "language",
            "attributes",
            "identities",
            "claims",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance):
        return customer_representation(instance)


class CustomerDetailOutputSerializer(CustomerOutputSerializer):
    timeline = ConversationOutputSerializer(
        many=True, read_only=True, help_text="The customer's conversations, newest first."
    )

    health = CustomerHealthSerializer(read_only=True, help_text="Risk level and its signals.")

    class Meta(CustomerOutputSerializer.Meta):
        fields = [*CustomerOutputSerializer.Meta.fields, "timeline", "health"]

    def to_representation(self, instance):
        timeline = [conversation_representation(c) for c in self.context["timeline"]]
        health = self.context["health"].as_dict()
        return {**customer_representation(instance), "timeline": timeline, "health": health}


class CustomerUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES],
        required=False,
        allow_blank=True,
        help_text='What the customer reads; "" follows their channel\'s language.',
    )
    attributes = serializers.DictField(required=False)


class MergeInputSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The duplicate profile, merged into this one.")


class MergeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.IntegerField(source="merged_id")
    moved = serializers.DictField()
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)


class CustomerExportOutputSerializer(serializers.Serializer):
    format = serializers.IntegerField(help_text="The document's version (1).")
    exported_at = serializers.DateTimeField()
    customer = serializers.DictField(
        help_text="The profile as customers/<id>/ reads it, with merged_into, erased_at, notes."
    )
    merged_profiles = serializers.ListField(
        child=serializers.DictField(), help_text="Profiles merged into this one, alike."
    )
    conversations = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each as conversations/<id>/ reads it, with erased_at, messages "
        "(with attachments and their url) and events.",
    )
    surveys = serializers.ListField(child=serializers.DictField())
    merges = serializers.ListField(child=serializers.DictField())
