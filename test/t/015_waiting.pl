# Databases waiting for a worker: however many ask while every worker slot
# is taken, each is served in turn.  Up to release 0.4 the line held 64
# databases, and one that asked past them was not queued: its deltas waited
# unsettled until its next hand-off asked again.  Here one worker slot is
# held by a database whose worker is stopped on a lock, while 70 more
# databases each create a view and hand off one delta (asking for a worker
# twice, both times with the slot taken); once the lock goes, the worker
# takes turns with the others and every database's delta is settled.  Then,
# after a crash, every database is probed in turn and its view comes back.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $waiting = 70;
my $node = lambda_node('waiting', extra_conf => qq{
lambda.workers = 1
lambda.max_views = 100
lambda.naptime = 10
});

sub sql { my ($query, $db) = @_; return $node->safe_psql($db // 'postgres', $query) }

sub make_database
{
	my ($db) = @_;
	sql(qq{CREATE DATABASE $db});
	sql(q{CREATE EXTENSION lambda;
		  CREATE TABLE ev (k int, x int);
		  SELECT lambda.create_master('ev');
		  SELECT lambda.create_view('v', 'SELECT k, count(*) AS n, sum(x) AS s FROM ev GROUP BY k');
		  INSERT INTO ev SELECT i % 3, i FROM generate_series(1, 30) i;}, $db);
}

# d0's worker takes the only slot, then stops on a lock of d0's catalog
make_database('d0');
ok(wait_until($node, q{SELECT count(*) = 1 FROM pg_stat_activity
					   WHERE backend_type = 'lambda worker' AND datname = 'd0'}),
	"d0's worker runs");
my $lock = $node->background_psql('d0');
$lock->query_safe(q{BEGIN; LOCK TABLE lambda.view IN ACCESS EXCLUSIVE MODE});
ok(wait_until($node, q{SELECT wait_event_type = 'Lock' FROM pg_stat_activity
					   WHERE backend_type = 'lambda worker' AND datname = 'd0'}),
	"d0's worker waits for the lock, holding the only worker slot");

# every other database asks (at its first batch, at its hand-off) meanwhile
my @dbs = map { "d$_" } 1 .. $waiting;
make_database($_) for @dbs;
is(sql(q{SELECT string_agg(DISTINCT datname, ',') FROM pg_stat_activity WHERE backend_type = 'lambda worker'}),
	'd0', 'no other database has a worker yet');
my $pending = 0;
$pending += sql(q{SELECT speed_pending FROM lambda.views}, $_) > 0 ? 1 : 0 for @dbs;
is($pending, $waiting, "all $waiting databases have a delta pending");
is(exact($node, 'v', 'SELECT k, count(*) AS n, sum(x) AS s FROM ev GROUP BY k', $dbs[-1]), 't|0',
	'readers count the pending delta: exact on the fast path');

# the lock goes: the worker takes turns with every database in line
$lock->query_safe(q{COMMIT});
$lock->quit;
my %unserved = map { $_ => 1 } ('d0', @dbs);
my $deadline = time() + 300;
while (%unserved && time() < $deadline)
{
	for my $db (sort keys %unserved)
	{
		delete $unserved{$db}
		  if sql(q{SELECT speed_pending = 0 AND lambda.settle_rounds(view) > 0 FROM lambda.views}, $db) eq 't';
	}
	usleep(200_000) if %unserved;
}
my @unserved = sort keys %unserved;
is("@unserved", '', 'every database was served and its delta settled');
is(exact($node, 'v', 'SELECT k, count(*) AS n, sum(x) AS s FROM ev GROUP BY k', $dbs[-1]), 't|0',
	'the last database to ask is exact on the fast path');

# After a crash, no database has a speed layer, nor a view slot, and none
# asks: the launcher probes every database, one worker slot at a time,
# while the workers it starts take turns with the databases still to probe
# (each gives its slot back after a while, and the probes go first, or the
# first database would take its slot back every time).  Every view comes
# back to the fast path by itself.
$node->stop('immediate');
$node->start;
%unserved = map { $_ => 1 } ('d0', @dbs);
$deadline = time() + 300;
while (%unserved && time() < $deadline)
{
	for my $db (sort keys %unserved)
	{
		my ($ret, $out) = $node->psql($db, q{SELECT lambda.fast_path('v')});
		delete $unserved{$db} if $ret == 0 && $out eq 't';
	}
	usleep(200_000) if %unserved;
}
@unserved = sort keys %unserved;
is("@unserved", '', 'after a crash, every database is probed and its view is back on the fast path by itself');
is(exact($node, 'v', 'SELECT k, count(*) AS n, sum(x) AS s FROM ev GROUP BY k', $dbs[-1]), 't|0',
	'and exact');

done_testing();
