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

# --- a database renamed, copied, or not accepting connections -------------
# DROP DATABASE, and renaming, moving or copying one, stop the database's
# worker (it would count as a session using it).  Once the command is over,
# or has failed, the database asks for a worker again: its pending delta is
# settled without waiting for its next write.  Workers nap a minute here, so
# only a worker started after the command settles it.  A worker connects
# also to a database that no longer accepts connections, as autovacuum does.

my $other = lambda_node('databases', extra_conf => qq{
lambda.workers = 2
lambda.naptime = '1min'
});
sub on { my ($db, $query) = @_; return $other->safe_psql($db, $query) }
on('postgres', q{CREATE DATABASE r1});
on('r1', q{CREATE EXTENSION lambda;
		   CREATE TABLE ev (k int, x int);
		   SELECT lambda.create_master('ev');
		   SELECT lambda.create_view('v', 'SELECT k, count(*) AS n FROM ev GROUP BY k')});
ok(wait_until($other, q{SELECT lambda.settle_rounds('v') > 0}, 't', 60, 'r1'), "r1's worker ran its first round");
my $pending_query = q{SELECT speed_pending FROM lambda.views};
on('r1', q{INSERT INTO ev VALUES (1, 1)});
is(on('r1', $pending_query), '1', 'a delta waits while the worker naps');
on('postgres', q{ALTER DATABASE r1 RENAME TO r2});
ok(wait_until($other, $pending_query, '0', 30, 'r2'), 'renamed, the database asks again: its delta is settled');

on('r2', q{INSERT INTO ev VALUES (2, 2)});
is(on('r2', $pending_query), '1', 'another delta waits');
on('postgres', q{CREATE DATABASE r2copy TEMPLATE r2});
ok(wait_until($other, $pending_query, '0', 30, 'r2'), 'copied as a template, the database asks again');

my $inside = $other->background_psql('r2');
on('postgres', q{ALTER DATABASE r2 ALLOW_CONNECTIONS false});
$inside->query_safe(q{INSERT INTO ev VALUES (3, 3)});
is($inside->query_safe($pending_query), '1', 'a session still inside writes a delta, which waits');
my ($ret, $out, $err) = $other->psql('postgres', q{ALTER DATABASE r2 RENAME TO r3});
like($err, qr/is being accessed by other users/, 'a rename that fails (a session is inside) ...');
my $deadline_inside = time() + 30;
my $settled = 0;
while (!$settled && time() < $deadline_inside)
{
	$settled = $inside->query_safe($pending_query) eq '0';
	usleep(200_000) unless $settled;
}
ok($settled, '... also asks again, and the worker settles the delta in a database not accepting connections');
$inside->quit;
my $log = slurp_file($other->logfile);
unlike($log, qr/is not currently accepting connections/, 'no worker failed to connect');
is(exact($other, 'v', 'SELECT k, count(*) AS n FROM ev GROUP BY k', 'r2copy'), 'f|0',
	'the copy answers exactly (through the slow path: its views have no speed layer of their own yet)');

done_testing();
