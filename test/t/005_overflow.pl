# Overflow: the speed layer's shared memory (lambda.speed_memory, here its
# minimum, 1MB) runs out.  Inserts never fail; the view answers exactly
# through the slow path and lambda.views says 'overflow'; the background
# worker then runs a batch by itself and the fast path comes back, exact.
# The delta of a transaction still in progress (prepared) when the memory
# ran out is kept and counted when it commits.
#
# The view v groups by a unique id, so every inserted row is a group of its
# own and the speed layer grows with every row; u has a handful of groups
# and shares the same memory.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = lambda_node('overflow', extra_conf => "lambda.speed_memory = 1024\n");

my $vquery = q{SELECT id, count(*) AS n, sum(amount) AS total, max(grp) AS grp
               FROM events GROUP BY id};
my $uquery = q{SELECT grp, count(*) AS n, count(amount) AS n_amount, sum(amount) AS total,
                      avg(amount) AS avg_amount, min(id) AS lo, max(id) AS hi
               FROM events GROUP BY grp};

sub sql { return $node->safe_psql('postgres', $_[0]) }

sub version
{
	return sql(q{SELECT batch_version FROM lambda.views WHERE view = 'v'::regclass});
}

# Insert rows from..to of group grp in one transaction; it must succeed.
sub insert
{
	my ($grp, $from, $to) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		qq{INSERT INTO events SELECT i, '$grp', i % 1000 FROM generate_series($from, $to) i});
	return $ret == 0 && $err eq '';
}

is(sql('SHOW lambda.speed_memory'), '1MB', 'speed layer limited to 1MB');

sql(q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 5), i % 1000 FROM generate_series(1, 1000) i;
});
sql(qq{SELECT lambda.create_view('v', \$\$ $vquery \$\$)});
sql(qq{SELECT lambda.create_view('u', \$\$ $uquery \$\$)});
ok(insert('small', 1001, 1100), 'a small insert');
ok(wait_fast($node, 'v', 30), 'v on the fast path');
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path');
is(exact($node, 'u', $uquery), 't|0', 'u exact on the fast path');

# --- a delta that cannot be stored, while a batch holds the view ----------
#
# A batch of v is open in another session: the worker cannot start a
# recovery batch (a run waits for the one in progress), so the overflow can
# be observed.

my $blocker = $node->background_psql('postgres');
$blocker->query_safe(q{BEGIN; SELECT lambda.run_batch('v')});

# 30000 groups in one transaction: more than 1MB of partial states
ok(insert('big', 100001, 130000), 'an insert larger than the speed memory succeeds');
is(speed_state($node, 'v'), 'overflow|f', "lambda.views says 'overflow', no fast path");
is(exact($node, 'v', $vquery), 'f|0', 'v exact through the slow path');
is(differences($node, 'u', $uquery), '0', 'u exact');
is(sql(q{SELECT n || ':' || total FROM u WHERE grp = 'big'}), '30000:14985000',
	'the big insert is counted');

my $all_ok = 1;
for my $i (0 .. 4)
{
	$all_ok &&= insert('more', 200001 + $i * 100, 200100 + $i * 100);
	$all_ok &&= exact($node, 'v', $vquery) eq 'f|0';
}
ok($all_ok, 'further inserts succeed, v stays exact on the slow path');
is(speed_state($node, 'v'), 'overflow|f', 'still overflow while the batch is open');

# the open batch's snapshot was taken before the loss: it must not bring the
# fast path back by itself; the worker's batch does
$blocker->query_safe('COMMIT');
$blocker->quit;
is(differences($node, 'v', $vquery), '0', 'v exact after the open batch published');
ok(wait_fast($node, 'v', 30), 'the worker brings v back on the fast path');
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path');
is(exact($node, 'u', $uquery), 't|0', 'u exact on the fast path');
is(sql(q{SELECT count(*) FROM v}), sql(q{SELECT count(DISTINCT id) FROM events}),
	'every group counted');

# --- a prepared transaction's delta survives an overflow and a recovery ----
#
# The big insert overflows while a batch holds v; then a transaction
# prepares (its small delta fits); the batch rolls back, the worker runs a
# recovery batch whose snapshot has the prepared transaction in progress,
# and the fast path comes back with the prepared rows not counted.  When
# they commit, the speed layer (not a batch) must count them.

$blocker = $node->background_psql('postgres');
$blocker->query_safe(q{BEGIN; SELECT lambda.run_batch('v')});
ok(insert('big2', 400001, 430000), 'another insert larger than the speed memory succeeds');
is(speed_state($node, 'v'), 'overflow|f', 'overflow again');
sql(q{
	BEGIN;
	INSERT INTO events SELECT i, 'prepared', 7 FROM generate_series(500001, 500050) i;
	PREPARE TRANSACTION 'lambda_overflow_p';
});
$blocker->query_safe('ROLLBACK');
$blocker->quit;
ok(wait_fast($node, 'v', 30), 'fast path back with the prepared transaction pending');
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path, prepared rows not counted');
is(sql(q{SELECT count(*) FROM v WHERE grp = 'prepared'}), '0', 'prepared rows not counted');
my $before = version();
sql(q{COMMIT PREPARED 'lambda_overflow_p'});
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path after COMMIT PREPARED');
is(exact($node, 'u', $uquery), 't|0', 'u exact on the fast path after COMMIT PREPARED');
is(sql(q{SELECT count(*) || ':' || sum(n) || ':' || sum(total) FROM v WHERE grp = 'prepared'}),
	'50:50:350', 'the prepared rows are counted once, by the speed layer');
is(version(), $before, 'no batch ran in between');

# --- a prepared transaction older than the overflow -----------------------
#
# Its delta fits; then another transaction's delta is lost.  Whatever the
# worker does meanwhile, the view stays exact, and once the prepared
# transaction commits, the fast path comes back and counts it once.

sql(q{
	BEGIN;
	INSERT INTO events SELECT i, 'prepared_early', 8 FROM generate_series(600001, 600040) i;
	PREPARE TRANSACTION 'lambda_overflow_q';
});
ok(insert('big3', 700001, 730000), 'a third big insert succeeds');
$all_ok = 1;
for my $i (1 .. 10)
{
	$all_ok &&= differences($node, 'v', $vquery) eq '0';
	usleep(100_000);
}
ok($all_ok, 'v exact while the prepared transaction is pending');
sql(q{COMMIT PREPARED 'lambda_overflow_q'});
is(differences($node, 'v', $vquery), '0', 'v exact after COMMIT PREPARED');
ok(wait_fast($node, 'v', 30), 'v back on the fast path');
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path');
is(exact($node, 'u', $uquery), 't|0', 'u exact on the fast path');
is(sql(q{SELECT count(*) || ':' || sum(n) FROM v WHERE grp = 'prepared_early'}), '40:40',
	'the early prepared rows are counted once');

# --- overflow without anyone holding the view, many times ---------------
#
# 60 transactions of 500 new groups each: the groups the worker settles
# into v's generation outgrow 1MB, again and again.  We never run a batch
# ourselves: batch_version goes up only by the worker's recovery batches,
# and once the inserts stop the worker must bring the fast path back and
# then stop running batches.

$before = version();
my %states;
$all_ok = 1;
for my $i (0 .. 59)
{
	my $from = 800001 + $i * 500;
	$all_ok &&= insert('many', $from, $from + 499);
	$states{ speed_state($node, 'v') }++;
	$all_ok &&= differences($node, 'v', $vquery) eq '0' if $i % 10 == 9;
	usleep(50_000);
}
ok($all_ok, '60 inserts succeed and v stays exact');
note('states seen: ' . join(', ', map { "$_ x$states{$_}" } sort keys %states));
# lambda.views must say when the view answers through the slow path: a
# query that reads 'ready' (speed_state and fast_path in one statement, one
# snapshot) is on the fast path
ok(!$states{'ready|f'}, "lambda.views never says 'ready' while the view is on the slow path")
  or diag("'ready' with fast_path false seen $states{'ready|f'} times");
cmp_ok(version(), '>', $before, 'the worker ran recovery batches by itself');
ok(wait_fast($node, 'v', 30), 'v back on the fast path');
is(exact($node, 'v', $vquery), 't|0', 'v exact on the fast path');
is(exact($node, 'u', $uquery), 't|0', 'u exact on the fast path');
$before = version();
sleep(2);
is(version(), $before, 'once ready, the worker runs no more batches');
is(speed_state($node, 'v'), 'ready|t', 'and v stays on the fast path');

$node->stop;
done_testing();
