from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# Login security (issue 11): failed logins are throttled through shared counters instead of
# locking the account (its two columns go), and users keep their last few password hashes.
class Migration(migrations.Migration):
    dependencies = [('models', '0007_removal_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('scope', fields.CharField(max_length=16)),
                ('account', fields.CharField(null=True, db_index=True, max_length=64)),
                ('failures', fields.IntField(default=0)),
                ('version', fields.IntField(default=0)),
                ('started_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('blocked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('succeeded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_throttle', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A failed-login counter: per account and address, per address, or per account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasswordHistory',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='password_history', on_delete=OnDelete.CASCADE)),
                ('password_hash', fields.CharField(max_length=255)),
                ('replaced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_history', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A password a user had before: a new one must not repeat the last few.'},
            bases=['Model'],
        ),
        ops.RemoveField(model_name='User', name='failed_logins'),
        ops.RemoveField(model_name='User', name='locked_until'),
    ]
