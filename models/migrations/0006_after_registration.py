from tortoise import migrations
from tortoise.migrations import operations as ops
from models.after import CorrectionStatus, ReplacementChannel, ReplacementProblem, ReplacementReportStatus
from models.registry import ChangeOp
from models.workflow import ApplicationKind
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_firm_workflow')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CorrectionPair',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request_id', fields.IntField(db_index=True)),
                ('position', fields.IntField()),
                ('wrong_imei', fields.CharField(db_index=True, max_length=15)),
                ('right_imei', fields.CharField(db_index=True, max_length=15)),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
            ],
            options={'table': 'correction_pair', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CorrectionRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm_id', fields.IntField(db_index=True)),
                ('application_id', fields.IntField(db_index=True)),
                ('status', fields.CharEnumField(default=CorrectionStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED', enum_type=CorrectionStatus, max_length=16)),
                ('note', fields.TextField(default='', unique=False)),
                ('petition_file_id', fields.IntField()),
                ('documents_file_id', fields.IntField()),
                ('requested_by', fields.CharField(max_length=255)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=255)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rejection_reason', fields.TextField(null=True, unique=False)),
                ('letter_file_id', fields.IntField(null=True)),
            ],
            options={'table': 'correction_request', 'app': 'models', 'indexes': [Index(fields=['status', 'firm_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PairingChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('imei', fields.CharField(db_index=True, max_length=15)),
                ('op', fields.CharEnumField(description='ADD: ADD\nREMOVE: REMOVE\nUPDATE: UPDATE', enum_type=ChangeOp, max_length=8)),
                ('msisdn', fields.CharField(default='', max_length=15)),
                ('firm_id', fields.IntField(null=True)),
                ('reason', fields.TextField(default='', unique=False)),
                ('actor_name', fields.CharField(default='', max_length=255)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pairing_change', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One change of `imei_pairing` (ADD, UPDATE with the new number, REMOVE with the old).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PairingFlag',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('imei', fields.CharField(db_index=True, max_length=15)),
                ('firm_id', fields.IntField(db_index=True)),
                ('reason', fields.TextField(unique=False)),
                ('flagged_by', fields.CharField(max_length=255)),
                ('flagged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pairing_flag', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Staff mark a registered IMEI for pairing (an altered identity found another way than'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Replacement',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('report_id', fields.IntField(db_index=True)),
                ('firm_id', fields.IntField(db_index=True)),
                ('old_imei', fields.CharField(db_index=True, max_length=15)),
                ('new_imei', fields.CharField(unique=True, max_length=15)),
                ('old_application_id', fields.IntField(null=True, db_index=True)),
                ('old_brand', fields.CharField(max_length=128)),
                ('old_model_code', fields.CharField(max_length=128)),
                ('new_application_id', fields.IntField(db_index=True)),
                ('kind', fields.CharEnumField(description='IMPORT: IMPORT\nMANUFACTURE: MANUFACTURE\nMAINBOARD: MAINBOARD\nSWAP: SWAP\nTEST: TEST', enum_type=ApplicationKind, max_length=16)),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
                ('held_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('replaced_by', fields.CharField(max_length=255)),
                ('replaced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'replacement', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An applied pair: the history of the consumed held IMEI and of the replaced one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReplacementLine',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('report_id', fields.IntField()),
                ('line_number', fields.IntField()),
                ('old_imei', fields.CharField(default='', max_length=32)),
                ('new_imei', fields.CharField(default='', max_length=32)),
                ('text', fields.CharField(default='', max_length=64)),
                ('problem', fields.CharEnumField(null=True, description='UNRECOGNISED_LINE: UNRECOGNISED_LINE\nINVALID_OLD_IMEI: INVALID_OLD_IMEI\nINVALID_NEW_IMEI: INVALID_NEW_IMEI\nSAME_IMEI: SAME_IMEI\nREPEATED_IN_REPORT: REPEATED_IN_REPORT\nOLD_NOT_REGISTERED: OLD_NOT_REGISTERED\nOLD_OF_ANOTHER_FIRM: OLD_OF_ANOTHER_FIRM\nNEW_ALREADY_USED: NEW_ALREADY_USED\nNEW_NOT_HELD: NEW_NOT_HELD\nNEW_ALREADY_REGISTERED: NEW_ALREADY_REGISTERED\nNEW_BLACKLISTED: NEW_BLACKLISTED', enum_type=ReplacementProblem, max_length=32)),
                ('applied', fields.BooleanField(default=False)),
            ],
            options={'table': 'replacement_line', 'app': 'models', 'unique_together': (('report_id', 'line_number'),), 'pk_attr': 'id', 'table_description': 'One line of an Ek-3 file as read and checked (blank and caption lines are not kept).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReplacementReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm_id', fields.IntField(db_index=True)),
                ('channel', fields.CharEnumField(description='DIRECT: DIRECT\nEK3_FILE: EK3_FILE', enum_type=ReplacementChannel, max_length=16)),
                ('status', fields.CharEnumField(description='PENDING_CONFIRMATION: PENDING_CONFIRMATION\nAPPLIED: APPLIED\nDISCARDED: DISCARDED', enum_type=ReplacementReportStatus, max_length=24)),
                ('source_file_id', fields.IntField(null=True)),
                ('line_count', fields.IntField(default=0)),
                ('valid_count', fields.IntField(default=0)),
                ('invalid_count', fields.IntField(default=0)),
                ('applied_count', fields.IntField(default=0)),
                ('letter_file_id', fields.IntField(null=True)),
                ('created_by', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=255)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'replacement_report', 'app': 'models', 'indexes': [Index(fields=['firm_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
