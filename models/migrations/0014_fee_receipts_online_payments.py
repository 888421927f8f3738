from tortoise import migrations
from tortoise.migrations import operations as ops
from models.payments import DeclineCode, OnlinePaymentStatus, ReceiptStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_declarations_and_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeeReceipt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(db_index=True)),
                ('bank', fields.CharField(max_length=128)),
                ('paid_on', fields.DateField()),
                ('receipt_no', fields.CharField(max_length=64)),
                ('amount_kurus', fields.BigIntField()),
                ('file_id', fields.IntField(null=True)),
                ('with_application', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=ReceiptStatus.DECLARED, description='DECLARED: DECLARED\nCONFIRMED: CONFIRMED\nREFUSED: REFUSED', enum_type=ReceiptStatus, max_length=16)),
                ('settles_key', fields.CharField(null=True, unique=True, max_length=64)),  # one receipt, one application
                ('refusal_reason', fields.TextField(default='', unique=False)),
                ('declared_by', fields.CharField(max_length=255)),
                ('declared_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=255)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fee_receipt', 'app': 'models', 'pk_attr': 'id', 'table_description': "A bank receipt (dekont, art. 3(ğ)) for an application's fee: declared by the firm with"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OnlinePayment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.CharField(unique=True, max_length=64)),
                ('application_id', fields.IntField(db_index=True)),
                ('amount_kurus', fields.BigIntField()),
                ('status', fields.CharEnumField(default=OnlinePaymentStatus.PENDING, description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nDECLINED: DECLINED', enum_type=OnlinePaymentStatus, max_length=16)),
                ('provider_payment_id', fields.CharField(null=True, max_length=128)),
                ('payment_url', fields.TextField(null=True, unique=False)),
                ('decline_code', fields.CharEnumField(null=True, description='CARD_DECLINED: CARD_DECLINED\nINSUFFICIENT_FUNDS: INSUFFICIENT_FUNDS\nEXPIRED_CARD: EXPIRED_CARD\nOTHER: OTHER', enum_type=DeclineCode, max_length=32)),
                ('decline_message', fields.TextField(default='', unique=False)),
                ('started_by', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'online_payment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One attempt to pay a fee notice online. `order_id` is our idempotency key at the'},
            bases=['Model'],
        ),
    ]
