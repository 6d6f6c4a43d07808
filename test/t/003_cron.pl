# pg_cron actually runs a view's batch on its schedule, as the user who
# scheduled it; alter_schedule, drop_view, dropping the master and dropping
# the extension remove the jobs and the catalog rows with them.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = lambda_node('cron');

sub sql { return $node->safe_psql('postgres', $_[0]) }

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total, avg(amount) AS avg_amount
              FROM events GROUP BY grp};

sql(q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION lambda;
	CREATE ROLE alice LOGIN;
	GRANT USAGE ON SCHEMA cron TO alice;
	GRANT CREATE ON SCHEMA public TO alice;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 4), i FROM generate_series(1, 100) i;
	GRANT SELECT, TRIGGER ON events TO alice;  -- defining a view takes both
});

# v: scheduled every minute by the superuser; w: by alice, a plain role
sql(qq{SELECT lambda.create_view('v', \$\$ $query \$\$, '* * * * *')});
sql(qq{SET ROLE alice; SELECT lambda.create_view('w', \$\$ $query \$\$, '* * * * *')});

my $vid = sql(q{SELECT id FROM lambda.view WHERE view = 'v'::regclass});
is(sql(q{SELECT j.jobname || ' ' || j.schedule || ' ' || j.command || ' ' || j.username
         FROM cron.job j JOIN lambda.view l ON l.cron_jobid = j.jobid
         WHERE l.view = 'v'::regclass}),
	"lambda: public.v * * * * * SELECT lambda.scheduled_batch($vid) " .
	  sql('SELECT current_user'),
	'v has its pg_cron job, recorded in its catalog row');
is(sql(q{SELECT j.username FROM cron.job j JOIN lambda.view l ON l.cron_jobid = j.jobid
         WHERE l.view = 'w'::regclass}),
	'alice', "w's job runs as alice");
is(sql(q{SELECT string_agg(view::text || ':' || batch_version || ':' || batch_groups || ':' || schedule, ',' ORDER BY view::text)
         FROM lambda.views}),
	'v:1:4:* * * * *,w:1:4:* * * * *', 'both views have their first batch');

# rows inserted after the first batch: a new group, and more of an old one
my $xid = sql(q{
	BEGIN;
	INSERT INTO events SELECT i, CASE WHEN i % 2 = 0 THEN 'late' ELSE 'g1' END, i
	FROM generate_series(101, 150) i;
	SELECT pg_current_xact_id();
	COMMIT;
});
is(sql(q{SELECT count(*) FROM v WHERE grp = 'late'}), '1', 'the view has the late rows at once');

# wait (at most 150 s) for pg_cron to run, for both views, a batch whose
# snapshot saw the insert (a run could start between create_view and the
# insert: batch_version alone does not say the rows are in)
my $ran = 0;
for (my $i = 0; $i < 300; $i++)
{
	if (sql(qq{SELECT bool_and(pg_visible_in_snapshot('$xid'::xid8, batch_snapshot))
	           FROM lambda.view}) eq 't')
	{
		$ran = 1;
		last;
	}
	usleep(500_000);
}
ok($ran, 'pg_cron ran batches of v and w that cover the insert within 150 s')
  or diag(sql(q{SELECT * FROM cron.job_run_details}));
is(sql(q{SELECT bool_and(batch_version > 1) FROM lambda.views}), 't',
	'batch_version went up for both views');

foreach my $view ('v', 'w')
{
	my $batch = sql(qq{SELECT batch_table FROM lambda.views WHERE view = '$view'::regclass});
	is(sql(qq{SELECT batch_groups FROM lambda.views WHERE view = '$view'::regclass}), '5',
		"$view: batch_groups counts the new group");
	is(sql(qq{
		SELECT count(*) FROM (
			(SELECT grp, n, total, avg_amount_sum / avg_amount_count FROM $batch EXCEPT ALL $query)
			UNION ALL
			($query EXCEPT ALL SELECT grp, n, total, avg_amount_sum / avg_amount_count FROM $batch)) d}),
		'0', "$view: the scheduled batch has every row, the late ones too");
	is(sql(qq{SELECT n || ':' || total FROM $batch WHERE grp = 'late'}), '25:3150',
		"$view: the late group is in the batch table");
	is(differences($node, $view, $query), '0', "$view: exact");
}
is(sql(q{SELECT count(*) FROM cron.job_run_details d JOIN lambda.view l ON l.cron_jobid = d.jobid
         WHERE d.status = 'failed'}),
	'0', 'no scheduled run failed');

# alter_schedule: change, then remove
sql(q{SELECT lambda.alter_schedule('v', '*/5 * * * *')});
is(sql(q{SELECT j.schedule FROM cron.job j JOIN lambda.view l ON l.cron_jobid = j.jobid
         WHERE l.view = 'v'::regclass}),
	'*/5 * * * *', 'alter_schedule changes the job');
my $vjob = sql(q{SELECT cron_jobid FROM lambda.view WHERE view = 'v'::regclass});
sql(q{SELECT lambda.alter_schedule('v', NULL)});
is(sql("SELECT count(*) FROM cron.job WHERE jobid = $vjob"), '0',
	'alter_schedule(view, NULL) removes the job');
is(sql(q{SELECT schedule IS NULL AND cron_jobid IS NULL FROM lambda.view WHERE view = 'v'::regclass}),
	't', 'and clears the schedule in the catalog');
is(sql(q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '1',
	"only w's job is left");

# drop_view (as alice, the owner): catalog row, batch table and job go
my $wbatch = sql(q{SELECT batch_table::oid FROM lambda.view WHERE view = 'w'::regclass});
my $wjob = sql(q{SELECT cron_jobid FROM lambda.view WHERE view = 'w'::regclass});
sql(q{SET ROLE alice; SELECT lambda.drop_view('w')});
is(sql(q{SELECT to_regclass('w') IS NULL}), 't', 'drop_view drops the view');
is(sql(q{SELECT count(*) FROM lambda.view}), '1', 'and its catalog row');
is(sql("SELECT count(*) FROM pg_class WHERE oid = $wbatch"), '0', 'and its batch table');
is(sql("SELECT count(*) FROM cron.job WHERE jobid = $wjob"), '0', 'and its job');

# DROP TABLE master CASCADE: views, jobs and catalog rows go
sql(q{SELECT lambda.alter_schedule('v', '0 3 * * *')});
sql(qq{SELECT lambda.create_view('u', \$\$ $query \$\$, '30 3 * * *')});
is(sql(q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '2',
	'two scheduled views on the master');
sql('DROP TABLE events CASCADE');
is(sql(q{SELECT count(*) FROM lambda.view}), '0', 'DROP TABLE master CASCADE forgets the views');
is(sql(q{SELECT count(*) FROM lambda.master}), '0', 'and the master');
is(sql(q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '0', 'and removes the jobs');
is(sql(q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'lambda' AND (c.relname LIKE 'batch\_%' OR c.relname LIKE 'partial\_%')}),
	'0', 'and the batch tables and partial views');
is(sql(q{SELECT count(*) FROM pg_class WHERE relname IN ('v', 'u') AND relkind = 'v'}), '0',
	'and the views');

# DROP EXTENSION lambda CASCADE: no job left behind
sql(q{
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events VALUES (1, 'a', 1);
});
sql(qq{SELECT lambda.create_view('v', \$\$ $query \$\$, '* * * * *')});
sql(qq{SELECT lambda.create_view('u', \$\$ $query \$\$, '0 4 * * *')});
is(sql(q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '2', 'two jobs again');
sql('DROP EXTENSION lambda CASCADE');
is(sql(q{SELECT count(*) FROM cron.job WHERE command LIKE '%lambda%'}), '0',
	'DROP EXTENSION lambda CASCADE leaves no job that mentions lambda');
is(sql(q{SELECT count(*) FROM pg_namespace WHERE nspname = 'lambda'}), '0',
	'schema lambda dropped');
is(sql(q{SELECT to_regclass('v') IS NULL AND to_regclass('u') IS NULL}), 't',
	'views dropped with the extension');
is(sql(q{SELECT count(*) FROM events}), '1', 'the master table itself stays');
# the master is an ordinary table again
sql(q{DELETE FROM events});
is(sql(q{SELECT count(*) FROM events}), '0', 'and is no longer append-only');

$node->stop;
done_testing();
