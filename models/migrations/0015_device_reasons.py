from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 15: a device list's groups are coloured at upload (device.tac_match), a cell that
# cannot be an IMEI travels with its device and reason (device.imei_notes), and each
# failure names the IMEIs that fail (device_failure.imei_positions). Existing rows stay null.

class Migration(migrations.Migration):
    dependencies = [('models', '0014_fee_receipts_online_payments')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Device',
            name='tac_match',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='Device',
            name='imei_notes',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='DeviceFailure',
            name='imei_positions',
            field=fields.CharField(max_length=16, null=True),
        ),
    ]
