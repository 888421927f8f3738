from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 14 (verdicts, lost and stolen, clones, one IMEI's history):
# - verification_batch.failed_at: when a batch was given up, so staff list it the day it dies.
# - individual_registration.overdue_at: when its verification deadline passed unanswered.
# - blacklist_entry.report_number (the registry's number, lets its holder lift the report)
#   and note; reasons SMUGGLED and IDENTITY_ALTERED (a CharEnum: no schema change).
# - clone_suspicion.dismissed_at/_by/dismiss_reason: staff dismiss a suspicion with a reason.

class Migration(migrations.Migration):
    dependencies = [('models', '0011_grace_and_quotas')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Registration',
            name='overdue_at',
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name='VerificationBatch',
            name='failed_at',
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name='BlacklistEntry',
            name='report_number',
            field=fields.CharField(max_length=20, null=True, unique=True),
        ),
        ops.AddField(
            model_name='BlacklistEntry',
            name='note',
            field=fields.TextField(default='', db_default=''),
        ),
        ops.AddField(
            model_name='CloneSuspicion',
            name='dismissed_at',
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name='CloneSuspicion',
            name='dismissed_by',
            field=fields.CharField(max_length=255, null=True),
        ),
        ops.AddField(
            model_name='CloneSuspicion',
            name='dismiss_reason',
            field=fields.TextField(null=True),
        ),
    ]
