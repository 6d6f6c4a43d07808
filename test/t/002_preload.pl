# Preloading: without lambda in shared_preload_libraries the extension
# cannot be installed and every entry point fails with a hint naming the
# setting; without pg_cron preloaded, a schedule is refused with a hint and
# leaves nothing behind, while views without a schedule work.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $errmsg = qr/lambda must be loaded via "shared_preload_libraries"/;
my $hint   = qr/HINT:  Add lambda to "shared_preload_libraries"/;

# --- a node without lambda preloaded -----------------------------------

my $bare = lambda_node('bare', conf => '');

my ($ret, $stdout, $stderr) = $bare->psql('postgres', 'CREATE EXTENSION lambda');
isnt($ret, 0, 'CREATE EXTENSION lambda fails without the preload');
like($stderr, $errmsg, 'error says lambda must be preloaded');
like($stderr, $hint, 'hint names shared_preload_libraries');
is($bare->safe_psql('postgres',
	q{SELECT count(*) FROM pg_extension WHERE extname = 'lambda'}), '0',
	'extension not installed');
is($bare->safe_psql('postgres',
	q{SELECT count(*) FROM pg_namespace WHERE nspname = 'lambda'}), '0',
	'schema lambda not left behind');

# loading the library by hand does not make it preloaded
($ret, $stdout, $stderr) = $bare->psql('postgres', q{LOAD 'lambda'; CREATE EXTENSION lambda});
isnt($ret, 0, 'CREATE EXTENSION lambda fails after LOAD');
like($stderr, $errmsg, 'LOAD is not a preload');

# the C entry points themselves refuse, with the hint
$bare->safe_psql('postgres', q{
	CREATE TABLE t (k int, x numeric);
	CREATE FUNCTION raw_create_master(regclass) RETURNS void
		AS 'lambda', 'lambda_create_master' LANGUAGE C STRICT;
	CREATE FUNCTION raw_create_view(text, text, text) RETURNS regclass
		AS 'lambda', 'lambda_create_view' LANGUAGE C;
	CREATE FUNCTION raw_run_batch(regclass) RETURNS bigint
		AS 'lambda', 'lambda_run_batch' LANGUAGE C STRICT;
});
foreach my $call (q{SELECT raw_create_master('t')},
	q{SELECT raw_create_view('v', 'SELECT k, count(*) FROM t GROUP BY k', NULL)},
	q{SELECT raw_run_batch('t')})
{
	($ret, $stdout, $stderr) = $bare->psql('postgres', $call);
	isnt($ret, 0, "$call fails without the preload");
	like($stderr, $hint, "$call: hint names shared_preload_libraries");
}
$bare->stop;

# --- a node with lambda preloaded but not pg_cron ------------------------

my $node = lambda_node('nocron', conf => q{
shared_preload_libraries = 'lambda'
max_prepared_transactions = 10
});

$node->safe_psql('postgres', q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 3), i FROM generate_series(1, 30) i;
});

my $query = q{SELECT grp, count(*) AS n, avg(amount) AS avg_amount FROM events GROUP BY grp};

($ret, $stdout, $stderr) = $node->psql('postgres',
	qq{SELECT lambda.create_view('v_sched', \$\$ $query \$\$, '*/5 * * * *')});
isnt($ret, 0, 'create_view with a schedule fails without pg_cron');
like($stderr, qr/extension "pg_cron" is not installed/, 'error names pg_cron');
like($stderr, qr/HINT:  .*pg_cron/, 'with a hint');
is($node->safe_psql('postgres', 'SELECT count(*) FROM lambda.views'), '0',
	'no catalog row left behind');
is($node->safe_psql('postgres', q{SELECT to_regclass('v_sched') IS NULL}), 't',
	'no view left behind');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'lambda' AND (c.relname LIKE 'batch\_%' OR c.relname LIKE 'partial\_%')}),
	'0', 'no batch table or partial view left behind');

is($node->safe_psql('postgres',
	qq{SELECT lambda.create_view('v', \$\$ $query \$\$)}), 'v',
	'create_view without a schedule works');
is($node->safe_psql('postgres', q{
	SELECT schedule IS NULL, batch_version, batch_groups FROM lambda.views}),
	't|1|3', 'view listed with its first batch and no schedule');

($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT lambda.alter_schedule('v', '* * * * *')});
isnt($ret, 0, 'alter_schedule fails without pg_cron');
like($stderr, qr/extension "pg_cron" is not installed/, 'alter_schedule error names pg_cron');
is($node->safe_psql('postgres', q{SELECT schedule IS NULL FROM lambda.views}), 't',
	'schedule unchanged');

$node->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'g' || (i % 4), i FROM generate_series(31, 40) i});
is($node->safe_psql('postgres', q{SELECT lambda.run_batch('v')}), '4',
	'run_batch works without pg_cron');
is(differences($node, 'v', $query), '0', 'view exact');

# --- the preload removed from a server where lambda is installed ---------

$node->append_conf('postgresql.conf', q{shared_preload_libraries = ''});
$node->restart;

($ret, $stdout, $stderr) = $node->psql('postgres', q{SELECT lambda.run_batch('v')});
isnt($ret, 0, 'run_batch fails once the preload is gone');
like($stderr, $hint, 'run_batch: hint names shared_preload_libraries');
($ret, $stdout, $stderr) = $node->psql('postgres',
	qq{SELECT lambda.create_view('v2', \$\$ $query \$\$)});
isnt($ret, 0, 'create_view fails once the preload is gone');
like($stderr, $hint, 'create_view: hint names shared_preload_libraries');
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{CREATE TABLE other (k int); SELECT lambda.create_master('other')});
isnt($ret, 0, 'create_master fails once the preload is gone');
like($stderr, $hint, 'create_master: hint names shared_preload_libraries');
($ret, $stdout, $stderr) = $node->psql('postgres', q{DELETE FROM events});
isnt($ret, 0, 'the master stays append-only without the preload');
like($stderr, qr/cannot delete from master table "events"/, 'DELETE refused');

$node->append_conf('postgresql.conf', q{shared_preload_libraries = 'lambda'});
$node->restart;
is($node->safe_psql('postgres', q{SELECT lambda.run_batch('v')}), '4',
	'run_batch works again with the preload back');
is(differences($node, 'v', $query), '0', 'view exact with the preload back');

$node->stop;

# --- dropping lambda objects while lambda is not preloaded ---------------
#
# Whether such a drop is refused or does its bookkeeping, it must not leave
# a catalog row naming a dropped view, nor a pg_cron job running the batch
# of a view that is gone.

my $drop = lambda_node('drop', conf => q{
shared_preload_libraries = 'pg_cron,lambda'
cron.database_name = 'postgres'
});
$drop->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events VALUES (1, 'a', 1);
});
$drop->safe_psql('postgres',
	qq{SELECT lambda.create_view('v', \$\$ $query \$\$, '0 5 * * *')});
$drop->safe_psql('postgres',
	qq{SELECT lambda.create_view('u', \$\$ $query \$\$, '0 6 * * *')});
is($drop->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '2', 'two scheduled views');

$drop->append_conf('postgresql.conf', q{shared_preload_libraries = 'pg_cron'});
$drop->restart;

my $dangling_rows = q{
	SELECT count(*) FROM lambda.view l
	WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.view)};
my $orphan_jobs = q{
	SELECT count(*) FROM cron.job j
	WHERE j.command LIKE '%lambda%' AND NOT EXISTS (
		SELECT FROM lambda.view l JOIN pg_class c ON c.oid = l.view
		WHERE l.cron_jobid = j.jobid)};

$drop->psql('postgres', 'DROP VIEW v');
is($drop->safe_psql('postgres', $dangling_rows), '0',
	'DROP VIEW without the preload leaves no catalog row for a dropped view');
is($drop->safe_psql('postgres', $orphan_jobs), '0',
	'DROP VIEW without the preload leaves no job for a dropped view');

$drop->psql('postgres', 'DROP EXTENSION lambda CASCADE');
is($drop->safe_psql('postgres',
	q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '0',
	'DROP EXTENSION without the preload leaves no job that mentions lambda');
$drop->stop;

done_testing();
