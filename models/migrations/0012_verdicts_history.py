from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 14 (verdicts, lost and stolen, clones, one IMEI's history):
# - verification_batch.failed_at: when a batch was given up, so staff list it the day it dies.

class Migration(migrations.Migration):
    dependencies = [('models', '0010_event_log')]

    initial = False

    operations = [
        ops.AddField(
            model_name='VerificationBatch',
            name='failed_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
