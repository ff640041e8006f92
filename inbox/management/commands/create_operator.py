from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inbox import people
from inbox.models import Role


class Command(BaseCommand):
    help = "Create an operator, supervisor or admin; --print-token prints the API token last."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.OPERATOR)
        parser.add_argument("--password")
        parser.add_argument("--team", action="append", default=[], help="team name (repeatable)")
        parser.add_argument("--email", default="")
        parser.add_argument("--print-token", action="store_true")

    def handle(self, *args, **options) -> None:
        try:
            # A refused user leaves no new team behind.
            with transaction.atomic():
                teams = [people.team_get_or_create(name=name) for name in options["team"]]
                user = people.operator_create(
                    username=options["username"],
                    role=options["role"],
                    password=options["password"],
                    email=options["email"],
                    teams=teams,
                )
        except people.OperatorInvalid as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"created {user.role} {user.username}")
        if options["print_token"]:
            self.stdout.write(people.operator_api_token(user=user))
