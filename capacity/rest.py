"""The shapes of the capacity figures in the API, for every face that shows
them: the services API here, and the organizations list of the records API
(which may import this, not capacity's views)."""

from rest_framework import serializers


class WaitSerializer(serializers.Serializer):
    waiting = serializers.IntegerField()
    awaiting_triage = serializers.IntegerField()
    oldest_waiting_days = serializers.IntegerField(allow_null=True)
    median_wait_days = serializers.IntegerField(allow_null=True)
    p90_wait_days = serializers.IntegerField(allow_null=True)
    sample_size = serializers.IntegerField()
    arrivals_4w = serializers.IntegerField()
    left_4w = serializers.IntegerField()
    growing = serializers.BooleanField()


class ExperienceSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    repeated_story_percent = serializers.IntegerField(allow_null=True)
    kept_informed_mean = serializers.FloatField(allow_null=True)
    overall_mean = serializers.FloatField(allow_null=True)
