from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# How many given-up verification batches each request was in (issue 12): a request goes back
# into the next periodic batch until MCKS_VERIFICATION_MAX_BATCHES, then waits for staff.
# The database default fills the rows that exist already.

class Migration(migrations.Migration):
    dependencies = [('models', '0008_login_security')]

    initial = False

    operations = [
        ops.AddField(
            model_name='VerificationRequest',
            name='failed_batches',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
