# Restart and crash: the batch layer and the view survive a clean restart
# and an immediate shutdown (crash), and the view stays exact through both.
# A prepared transaction survives the restarts, is not counted before
# COMMIT PREPARED and is counted after.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use File::Copy qw(copy move);

# wal_level replica: the end starts the server as a standby
my $node = lambda_node('restart', extra_conf => "wal_level = replica\n");

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total,
                     avg(amount) AS avg_amount, max(amount) AS largest
              FROM events GROUP BY grp};

# Total count in the view, and the batch version.
sub view_rows  { $node->safe_psql('postgres', 'SELECT coalesce(sum(n), 0) FROM v') }
sub version    { $node->safe_psql('postgres', q{SELECT batch_version FROM lambda.views WHERE view = 'v'::regclass}) }

# The batch table's contents, as text, in a fixed order.
sub batch_rows
{
	my $batch = $node->safe_psql('postgres',
		q{SELECT batch_table FROM lambda.views WHERE view = 'v'::regclass});
	return $node->safe_psql('postgres',
		"SELECT grp, n, total, avg_amount_sum, avg_amount_count, largest FROM $batch ORDER BY grp");
}

$node->safe_psql('postgres', q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 7), i % 100 FROM generate_series(1, 1000) i;
});
$node->safe_psql('postgres', "SELECT lambda.create_view('v', \$\$ $query \$\$)");
is(version(), '1', 'create_view published batch 1');
is(view_rows(), '1000', 'view counts the initial rows');

$node->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'g' || (i % 5), i % 37 FROM generate_series(1001, 1500) i});
is($node->safe_psql('postgres', q{SELECT lambda.run_batch('v')}), '7', 'run_batch returns the number of groups');
is(version(), '2', 'run_batch published batch 2');

# after the batch: committed rows, a new group, an aborted insert and a
# rolled-back subtransaction
$node->safe_psql('postgres', q{
	INSERT INTO events SELECT i, 'late', i FROM generate_series(1501, 1600) i;
	BEGIN;
	INSERT INTO events SELECT i, 'aborted', 1 FROM generate_series(1601, 1700) i;
	ROLLBACK;
	BEGIN;
	INSERT INTO events VALUES (1701, 'g1', 5);
	SAVEPOINT s;
	INSERT INTO events SELECT i, 'aborted', 1 FROM generate_series(1702, 1800) i;
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
});
is(view_rows(), '1601', 'view counts committed rows only');
is($node->safe_psql('postgres', q{SELECT count(*) FROM v WHERE grp = 'aborted'}), '0',
	'no group from aborted rows');
is(differences($node, 'v', $query), '0', 'exact before restart');

my $batch_before = batch_rows();
like($batch_before, qr/^g0\|/, 'batch table has groups');
unlike($batch_before, qr/late|aborted/, 'batch table has no row committed after its snapshot');

# a prepared transaction: not counted until COMMIT PREPARED
$node->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO events SELECT i, 'prepared', 2 FROM generate_series(2001, 2010) i;
	INSERT INTO events VALUES (2011, 'g2', 1000);
	PREPARE TRANSACTION 'lambda_p1';
});
is(view_rows(), '1601', 'prepared rows are not counted');
is(differences($node, 'v', $query), '0', 'exact with a prepared transaction pending');

ok(wait_fast($node, 'v'), 'fast path before the restart');

# clean restart (fast shutdown) with a transaction in flight: it is rolled
# back and never counted; the speed layer saved at the shutdown is loaded
# at the start, so the view is on the fast path at once, with no batch
my $open = $node->background_psql('postgres');
$open->query_safe(q{BEGIN; INSERT INTO events SELECT i, 'in_flight', 3 FROM generate_series(3001, 3050) i;});
$node->restart;
$open->{run}->kill_kill;
is(exact($node, 'v', $query), 't|0', 'fast path and exact at once after a clean restart');
is($node->safe_psql('postgres', q{SELECT speed_state || ':' || coalesce(slow_reason, '') FROM lambda.views}),
	'ready:', 'lambda.views: ready, no reason to be slow');
is(differences($node, 'v', $query), '0', 'exact after restart');
is($node->safe_psql('postgres', q{SELECT count(*) FROM v WHERE grp = 'in_flight'}), '0',
	'transaction in flight at the restart is not counted');
is(view_rows(), '1601', 'same count after restart');
is(version(), '2', 'batch_version survived restart');
is(batch_rows(), $batch_before, 'batch rows survived restart');
is($node->safe_psql('postgres', q{SELECT gid FROM pg_prepared_xacts}), 'lambda_p1',
	'prepared transaction survived restart');

$node->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'after_restart', 4 FROM generate_series(4001, 4020) i});
is(view_rows(), '1621', 'view counts rows inserted after restart');
is(differences($node, 'v', $query), '0', 'exact after restart and inserts');

# crash: immediate shutdown with a transaction in flight
$open = $node->background_psql('postgres');
$open->query_safe(q{BEGIN; INSERT INTO events SELECT i, 'in_flight', 3 FROM generate_series(3001, 3050) i;});
$node->stop('immediate');
$open->{run}->kill_kill;
$node->start;
is(differences($node, 'v', $query), '0', 'exact after crash');
is(view_rows(), '1621', 'same count after crash');
is($node->safe_psql('postgres', q{SELECT count(*) FROM v WHERE grp = 'in_flight'}), '0',
	'transaction in flight at the crash is not counted');
is(version(), '2', 'batch_version survived crash');
is(batch_rows(), $batch_before, 'batch rows survived crash');
is($node->safe_psql('postgres', q{SELECT gid FROM pg_prepared_xacts}), 'lambda_p1',
	'prepared transaction survived crash');

# inserts and a batch after the crash
$node->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'after_crash', 5 FROM generate_series(5001, 5030) i});
is(view_rows(), '1651', 'view counts rows inserted after crash');
is(differences($node, 'v', $query), '0', 'exact after crash and inserts');
is($node->safe_psql('postgres', q{SELECT lambda.run_batch('v')}), '10',
	'run_batch after crash: 7 groups + late + after_restart + after_crash');
is(version(), '3', 'batch_version 3');
is(differences($node, 'v', $query), '0', 'exact after a batch following the crash');
my $batch_after = batch_rows();
like($batch_after, qr/^after_crash\|30\|150\|150\|30\|5$/m, 'new batch has the rows inserted after the crash');
unlike($batch_after, qr/prepared|in_flight|aborted/, 'new batch has no uncommitted or aborted row');

# the prepared transaction commits after the batch took its snapshot
$node->safe_psql('postgres', q{COMMIT PREPARED 'lambda_p1'});
is(view_rows(), '1662', 'COMMIT PREPARED rows are counted');
is($node->safe_psql('postgres', q{SELECT n || ':' || total FROM v WHERE grp = 'prepared'}), '10:20',
	'prepared group counted once');
is(differences($node, 'v', $query), '0', 'exact after COMMIT PREPARED');

# the prepared transaction kept the view on the slow path since the crash
# (its delta was lost); now that it is resolved, a worker's batch brings the
# fast path back by itself
ok(wait_fast($node, 'v', 60), 'fast path back after the prepared transaction resolved');
is(differences($node, 'v', $query), '0', 'exact on the fast path');
is(view_rows(), '1662', 'count on the fast path');

# and once more through a crash, then a batch that covers everything
$node->stop('immediate');
$node->start;
is(differences($node, 'v', $query), '0', 'exact after second crash');
is(view_rows(), '1662', 'count after second crash');
$node->safe_psql('postgres', q{SELECT lambda.run_batch('v')});
cmp_ok(version(), '>=', 4, 'batch_version went on counting');
is(differences($node, 'v', $query), '0', 'exact after final batch');
my $batch = $node->safe_psql('postgres',
	q{SELECT batch_table FROM lambda.views WHERE view = 'v'::regclass});
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM (
		(SELECT grp, n, total, avg_amount_sum / avg_amount_count, largest FROM $batch
		 EXCEPT ALL $query)
		UNION ALL
		($query EXCEPT ALL
		 SELECT grp, n, total, avg_amount_sum / avg_amount_count, largest FROM $batch)) d}),
	'0', 'final batch table equals the query on the master');

# A saved state that transactions after it made outdated is never used:
# keep the file of one clean shutdown, insert, shut down cleanly again, and
# put the old file back
my $saved = $node->data_dir . '/pg_stat/lambda_speed.state';
ok(wait_fast($node, 'v'), 'fast path before the last restarts');
$node->stop;
ok(-f $saved, 'a clean shutdown saves the speed layer');
copy($saved, "$saved.old") or die "copy: $!";
$node->start;
# the launcher loads it first thing, which may be just after the start
my $taken = 0;
for (my $tries = 0; !$taken && $tries < 300; $tries++)
{
	$taken = !-f $saved;
	usleep(100_000) unless $taken;
}
ok($taken, 'the start takes the saved state and removes the file');
is(exact($node, 'v', $query), 't|0', 'fast path and exact at once after another clean restart');
$node->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'after_save', 6 FROM generate_series(6001, 6040) i});
$node->stop;
move("$saved.old", $saved) or die "move: $!";
my $log_offset = -s $node->logfile;
$node->start;
ok($node->log_contains(qr/not loading the speed layer saved at the last shutdown/, $log_offset),
	'an outdated saved state is refused');
is(differences($node, 'v', $query), '0', 'exact: the rows inserted after the old save are counted');
is($node->safe_psql('postgres', q{SELECT n FROM v WHERE grp = 'after_save'}), '40',
	'the group inserted after the old save');
ok(wait_fast($node, 'v'), 'a batch brings the fast path back');
is(exact($node, 'v', $query), 't|0', 'exact on the fast path');

# A data directory that will replay WAL before the launcher could load the
# saved state (a standby, here the cleanly stopped server started as one,
# which a promotion then ends) never loads it, and reads do not wait for a
# launcher that cannot run during recovery
$node->stop;
ok(-f $saved, 'saved again at the clean shutdown');
$node->set_standby_mode;
$log_offset = -s $node->logfile;
$node->start;
ok($node->log_contains(qr/not loading the speed layer saved at the last shutdown/, $log_offset),
	'a standby refuses the saved state');
is($node->safe_psql('postgres', 'SET statement_timeout = 10000; SELECT coalesce(sum(n), 0) FROM v'),
	view_rows_expected(), 'reads on the standby answer at once, exactly');
$node->promote;
is(differences($node, 'v', $query), '0', 'exact after the promotion');
ok(wait_fast($node, 'v'), 'a batch brings the fast path back after the promotion');

$node->stop;
done_testing();

# The number of rows the view's query counts on the master
sub view_rows_expected
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM events');
}
