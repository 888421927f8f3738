from tortoise import migrations
from tortoise.migrations import operations as ops
from models.documents import DocumentKind
from models.notifications import NotificationStatus
from models.payments import PaymentMethod
from models.progress import SignatureMethod
from models.workflow import ApplicationKind
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_individual_registrations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApplicationDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField()),
                ('kind', fields.CharEnumField(description='INVOICE: INVOICE\nCAPACITY_REPORT: CAPACITY_REPORT\nSIGNED_APPLICATION: SIGNED_APPLICATION\nCUSTOMS_DOCUMENTS: CUSTOMS_DOCUMENTS\nSIGNED_COVER_LETTER: SIGNED_COVER_LETTER\nAPPLICATION_FORM: APPLICATION_FORM\nFEE_NOTICE: FEE_NOTICE\nPERMIT: PERMIT\nCOVER_LETTER: COVER_LETTER', enum_type=DocumentKind, max_length=32)),
                ('file_id', fields.IntField()),
                ('created_by', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'application_document', 'app': 'models', 'indexes': [Index(fields=['application_id', 'kind'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApplicationProgress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(unique=True)),
                ('signature_method', fields.CharEnumField(null=True, description='E_SIGNATURE: E_SIGNATURE\nWET_SIGNATURE: WET_SIGNATURE', enum_type=SignatureMethod, max_length=16)),
                ('signature_chosen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('signer_name', fields.CharField(null=True, max_length=255)),
                ('signature_trusted', fields.BooleanField(null=True)),
                ('reviewer_id', fields.IntField(null=True)),
                ('reviewer_name', fields.CharField(null=True, max_length=255)),
                ('review_taken_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('registered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('registered_imei_count', fields.BigIntField(default=0)),
                ('held_imei_count', fields.BigIntField(default=0)),
                ('customs_due_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'application_progress', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CeCertificate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm_id', fields.IntField()),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
                ('brand_key', fields.CharField(max_length=128)),
                ('model_key', fields.CharField(max_length=128)),
                ('file_id', fields.IntField()),
                ('uploaded_by', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ce_certificate', 'app': 'models', 'unique_together': (('firm_id', 'brand_key', 'model_key'),), 'pk_attr': 'id', 'table_description': 'A CE certificate of a firm for one brand and model (JPEG scan, guide §3).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeeNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(unique=True)),
                ('number', fields.CharField(unique=True, max_length=64)),
                ('year', fields.IntField()),
                ('imei_count', fields.BigIntField()),
                ('per_imei_kurus', fields.BigIntField()),
                ('amount_kurus', fields.BigIntField()),
                ('file_id', fields.IntField()),
                ('issued_by', fields.CharField(max_length=255)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fee_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The fee notice issued when a reviewer approves: passing IMEIs × the fee of the year.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeeYear',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.IntField(unique=True)),
                ('fee_kurus', fields.BigIntField(null=True)),
                ('revaluation_rate', fields.DecimalField(null=True, max_digits=10, decimal_places=6)),
                ('updated_by', fields.CharField(max_length=255)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fee_year', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What staff set for one year: its fee, or the revaluation rate that derives it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HeldImei',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('imei', fields.CharField(unique=True, max_length=15)),
                ('application_id', fields.IntField(db_index=True)),
                ('firm_id', fields.IntField(db_index=True)),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
                ('kind', fields.CharEnumField(description='IMPORT: IMPORT\nMANUFACTURE: MANUFACTURE\nMAINBOARD: MAINBOARD\nSWAP: SWAP\nTEST: TEST', enum_type=ApplicationKind, max_length=16)),
                ('held_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'held_imei', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm_id', fields.IntField(null=True, db_index=True)),
                ('application_id', fields.IntField(null=True, db_index=True)),
                ('event', fields.CharField(max_length=64)),
                ('recipient', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=255)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=NotificationStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED', enum_type=NotificationStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(unique=True)),
                ('fee_notice_id', fields.IntField()),
                ('method', fields.CharEnumField(description='VIRTUAL_POS: VIRTUAL_POS\nCARD_AT_OFFICE: CARD_AT_OFFICE\nBANK_TRANSFER: BANK_TRANSFER', enum_type=PaymentMethod, max_length=16)),
                ('amount_kurus', fields.BigIntField()),
                ('receipt_no', fields.CharField(null=True, max_length=64)),
                ('note', fields.TextField(default='', unique=False)),
                ('recorded_by', fields.CharField(max_length=255)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The payment archive staff recorded, one per application (recording is idempotent).'},
            bases=['Model'],
        ),
    ]
