# Hard kills: kill -9 of a backend in the middle of a multi-row insert
# transaction, of the lambda worker and of the lambda launcher (each makes
# the postmaster restart the cluster, wiping the speed layer's shared
# memory), SIGTERM of the worker (the launcher starts another one), and a
# clean restart.
#
# After each one the views are exact at once (through the slow path while
# the speed layer is not whole), and within a bounded time the background
# worker has run a batch by itself, speed_state is 'ready', lambda.fast_path
# is true, and the views are exact on the fast path.  Rows committed before
# the kill and only held by the speed layer are not lost; rows of
# transactions in flight are never counted.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the test framework turns restart_after_crash off; a hard kill must make
# the postmaster restart the cluster here
my $node = lambda_node('kill', extra_conf => "restart_after_crash = on\n");

my $vquery = q{SELECT grp, count(*) AS n, count(amount) AS n_amount, sum(amount) AS total,
                      avg(amount) AS avg_amount, min(amount) AS lo, max(amount) AS hi
               FROM events GROUP BY grp};
my $wquery = q{SELECT id % 10 AS bucket, count(*) FILTER (WHERE amount > 50) AS n_big,
                      sum(id) AS ids, max(grp) AS last_grp
               FROM events WHERE amount IS NOT NULL GROUP BY id % 10};

sub sql { return $node->safe_psql('postgres', $_[0]) }

# Both views exact on the fast path, once the worker had the time.
sub both_fast
{
	my ($what) = @_;
	ok(wait_fast($node, 'v', 60), "$what: v back on the fast path");
	ok(wait_fast($node, 'w', 60), "$what: w back on the fast path");
	is(exact($node, 'v', $vquery), 't|0', "$what: v exact on the fast path");
	is(exact($node, 'w', $wquery), 't|0', "$what: w exact on the fast path");
}

sub version
{
	return sql(q{SELECT batch_version FROM lambda.views WHERE view = 'v'::regclass});
}

# Rows of a group, as the view counts them (0 when the group is absent).
sub counted
{
	my ($grp) = @_;
	return sql(qq{SELECT coalesce(sum(n), 0) FROM v WHERE grp = '$grp'});
}

# Kill a server process hard and wait until the postmaster has restarted
# the cluster and accepts connections again.
sub kill9_and_wait
{
	my ($pid, $what) = @_;
	my $offset = -s $node->logfile;

	ok(kill('KILL', $pid), "$what: kill -9 $pid");
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	ok(wait_until($node, 'SELECT 1', '1', 60), "$what: server accepts connections again");
}

# A background session inside a transaction that inserted rows of group grp.
sub open_writer
{
	my ($grp, $from, $to) = @_;
	my $session = $node->background_psql('postgres');
	$session->query_safe(qq{SET application_name = 'lambda_$grp'});
	$session->query_safe(qq{BEGIN;
		INSERT INTO events SELECT i, '$grp', i % 100 FROM generate_series($from, $to) i});
	return $session;
}

sql(q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 7), CASE WHEN i % 13 = 0 THEN NULL ELSE i % 100 END
	FROM generate_series(1, 2000) i;
});
sql(qq{SELECT lambda.create_view('v', \$\$ $vquery \$\$)});
sql(qq{SELECT lambda.create_view('w', \$\$ $wquery \$\$)});
# committed after the first batch: only in the speed layer
sql(q{INSERT INTO events SELECT i, 'g' || (i % 5), i % 37 FROM generate_series(2001, 2500) i});
both_fast('start');

# --- kill -9 of a backend in the middle of a multi-row insert -----------

# A prepared transaction that inserted: its delta lives in shared memory
# only, so after the crash the views may not use the fast path until it is
# resolved; that makes the slow path observable.
sql(q{
	BEGIN;
	INSERT INTO events SELECT i, 'prepared', 2 FROM generate_series(3001, 3010) i;
	PREPARE TRANSACTION 'lambda_kill_p';
});
# committed, not in any batch
sql(q{INSERT INTO events SELECT i, 'committed', 3 FROM generate_series(3101, 3200) i});
my $before = version();

# the victim: a transaction that inserted 1000 rows and is inserting more,
# one row every 50 ms, when it is killed
my $victim = open_writer('killed', 4001, 5000);
$victim->query_until(qr/inserting/, q{\echo inserting
INSERT INTO events SELECT i, 'killed', 1 FROM generate_series(5001, 5600) i, LATERAL (SELECT pg_sleep(0.05 + 0 * i)) s;  -- correlated: a sleep per row
});
ok(wait_until($node, q{SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'lambda_killed' AND state = 'active' AND query LIKE 'INSERT%'}, '1', 30),
	'victim is in the middle of its insert');
# a batch in flight too: it dies with the restart and publishes nothing
my $batch = $node->background_psql('postgres');
$batch->query_safe(q{BEGIN; SELECT lambda.run_batch('w')});

my $pid = sql(q{SELECT pid FROM pg_stat_activity WHERE application_name = 'lambda_killed'});
kill9_and_wait($pid, 'backend');
$victim->{run}->kill_kill;
$batch->{run}->kill_kill;

is(exact($node, 'v', $vquery), 'f|0',
	'after the crash: v exact, through the slow path while the prepared transaction is pending');
is(differences($node, 'w', $wquery), '0', 'after the crash: w exact');
is(speed_state($node, 'v'), 'rebuilding|f', 'lambda.views says v is rebuilding');
is(counted('killed'), '0', 'rows of the killed transaction are not counted');
is(counted('committed'), '100', 'committed rows held only by the speed layer are not lost');
is(counted('prepared'), '0', 'prepared rows are not counted');
is(sql(q{SELECT gid FROM pg_prepared_xacts}), 'lambda_kill_p', 'prepared transaction survived');

sql(q{COMMIT PREPARED 'lambda_kill_p'});
is(differences($node, 'v', $vquery), '0', 'exact after COMMIT PREPARED');
is(counted('prepared'), '10', 'prepared rows counted once after COMMIT PREPARED');
both_fast('after the backend was killed');
cmp_ok(version(), '>', $before, 'the worker ran a batch by itself');
is(counted('prepared'), '10', 'prepared rows counted once on the fast path');
is(counted('killed'), '0', 'killed rows not counted on the fast path');

# --- kill -9 of the lambda worker ----------------------------------------

ok(wait_until($node, q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'postgres'}, '1', 30),
	'a lambda worker serves the database');
my $wpid = sql(q{SELECT pid FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'postgres'});
sql(q{INSERT INTO events SELECT i, 'before_worker_kill', i % 10 FROM generate_series(6001, 6100) i});
$victim = open_writer('in_flight', 6101, 6200);
$before = version();

kill9_and_wait($wpid, 'worker');
$victim->{run}->kill_kill;

is(differences($node, 'v', $vquery), '0', 'exact at once after the worker was killed');
is(differences($node, 'w', $wquery), '0', 'w exact at once after the worker was killed');
is(counted('before_worker_kill'), '100', 'rows committed before the worker was killed are counted');
is(counted('in_flight'), '0', 'rows in flight are not counted');
both_fast('after the worker was killed');
cmp_ok(version(), '>', $before, 'the new worker ran a batch by itself');
isnt(sql(q{SELECT pid FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'postgres'}), $wpid, 'a new worker runs');

# --- kill -9 of the lambda launcher -----------------------------------------

my $lpid = sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'lambda launcher'});
like($lpid, qr/^\d+$/, 'the lambda launcher runs');
sql(q{INSERT INTO events SELECT i, 'before_launcher_kill', 1 FROM generate_series(6201, 6300) i});
kill9_and_wait($lpid, 'launcher');
is(differences($node, 'v', $vquery), '0', 'exact at once after the launcher was killed');
is(counted('before_launcher_kill'), '100', 'rows committed before the launcher was killed are counted');
both_fast('after the launcher was killed');

# --- SIGTERM of the worker: no restart, the launcher starts another ---------

$wpid = sql(q{SELECT pid FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'postgres'});
like($wpid, qr/^\d+$/, 'a lambda worker runs');
$before = version();
is(sql(qq{SELECT pg_terminate_backend($wpid)}), 't', 'worker terminated');
ok(wait_until($node, qq{SELECT count(*) FROM pg_stat_activity WHERE pid = $wpid}, '0', 30),
	'the terminated worker is gone');
sql(q{INSERT INTO events SELECT i, 'after_sigterm', 4 FROM generate_series(6301, 6400) i});
# a new worker that keeps running (one that exits at once does not count)
ok(wait_until($node, qq{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'postgres' AND pid <> $wpid
	  AND backend_start < now() - interval '1 second'}, '1', 30),
	'the launcher started a new worker, and it keeps running');
is(exact($node, 'v', $vquery), 't|0', 'exact on the fast path: a worker exit loses nothing');
is(exact($node, 'w', $wquery), 't|0', 'w exact on the fast path');
is(version(), $before, 'no batch was needed');
is(counted('after_sigterm'), '100', 'rows inserted meanwhile are counted');
# the new worker settles them: speed_groups of v's newest generation grows
ok(wait_until($node, q{SELECT speed_groups > 0 FROM lambda.views WHERE view = 'v'::regclass}, 't', 30),
	'the new worker settles deltas');
is(exact($node, 'v', $vquery), 't|0', 'exact on the fast path after settling');

# --- clean restart -------------------------------------------------------

sql(q{INSERT INTO events SELECT i, 'before_restart', 5 FROM generate_series(7001, 7100) i});
$victim = open_writer('in_flight', 7101, 7200);
$before = version();
$node->restart;
$victim->{run}->kill_kill;
is(differences($node, 'v', $vquery), '0', 'exact at once after a clean restart');
is(differences($node, 'w', $wquery), '0', 'w exact at once after a clean restart');
is(counted('before_restart'), '100', 'rows committed before the restart are counted');
is(counted('in_flight'), '0', 'rows in flight at the restart are not counted');
both_fast('after a clean restart');
is(version(), $before, 'no batch was needed: the speed layer saved at the shutdown was loaded');

# and the layers keep working: new rows, a batch, exact on the fast path
sql(q{INSERT INTO events SELECT i, 'g' || (i % 3), i % 50 FROM generate_series(8001, 8500) i});
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path with new rows');
sql(q{SELECT lambda.run_batch('v')});
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path after a batch');
is(exact($node, 'w', $wquery), 't|0', 'w exact on the fast path');

$node->stop;
done_testing();
