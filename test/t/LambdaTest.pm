# Shared code of lambda's TAP tests: a node with pg_cron and lambda
# preloaded, and the checks every test ends with (the view equals its query
# run on the master; the fast path is in use).
#
#	use FindBin;
#	use lib $FindBin::RealBin;
#	use LambdaTest;
#
#	my $node = lambda_node('name');                    # started, standard settings
#	my $node = lambda_node('name', extra_conf => "lambda.speed_memory = 1024\n");
#	my $node = lambda_node('name', conf => '');        # no preload at all

package LambdaTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(lambda_node differences exact wait_until wait_fast speed_state);

# The settings every node of these tests runs with, unless told otherwise
our $STANDARD_CONF = q{
shared_preload_libraries = 'pg_cron,lambda'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
max_prepared_transactions = 10
};

# A new node, initialized and started.  conf replaces the standard settings,
# extra_conf is appended to them; no_start leaves it stopped.
sub lambda_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $conf = exists $opt{conf} ? $opt{conf} : $STANDARD_CONF;

	$conf .= $opt{extra_conf} if defined $opt{extra_conf};
	$node->init;
	$node->append_conf('postgresql.conf', $conf) if $conf ne '';
	$node->start unless $opt{no_start};
	return $node;
}

# SQL counting the rows in which view and query differ, rows compared as
# text (values, NULLs and numeric scales must all be the same).
sub _differences_sql
{
	my ($view, $query) = @_;
	return qq{SELECT count(*) FROM (
		(SELECT t::text FROM $view t EXCEPT ALL SELECT t::text FROM ($query) t)
		UNION ALL
		(SELECT t::text FROM ($query) t EXCEPT ALL SELECT t::text FROM $view t)) d};
}

# Number of rows in which the view and its query run on the master differ.
sub differences
{
	my ($node, $view, $query, $db) = @_;
	return $node->safe_psql($db // 'postgres', _differences_sql($view, $query));
}

# "fast|differences" under one snapshot: whether the view answers through
# the fast path (batch table + speed layer), and the number of rows in which
# it differs from its query run on the master.  't|0' is the fast path,
# exact; 'f|0' the slow path, exact.
sub exact
{
	my ($node, $view, $query, $db) = @_;
	return $node->safe_psql($db // 'postgres',
		"SELECT CASE WHEN lambda.fast_path('$view') THEN 't' ELSE 'f' END || '|' || ("
		  . _differences_sql($view, $query) . ")");
}

# Run query until it returns expected ('t' by default), for at most
# timeout seconds (errors, as while the server restarts, count as "not
# yet").  True if it did.
sub wait_until
{
	my ($node, $query, $expected, $timeout, $db) = @_;
	my $deadline = time() + ($timeout // 60);
	my ($ret, $out, $err);

	$expected //= 't';
	while (time() < $deadline)
	{
		($ret, $out, $err) = $node->psql($db // 'postgres', $query);
		return 1 if $ret == 0 && defined $out && $out eq $expected;
		usleep(100_000);
	}
	diag("timed out waiting for '$expected' from: $query\nlast output: "
		  . ($out // '') . "\nlast error: " . ($err // ''));
	return 0;
}

# Wait (at most timeout seconds, 60 by default) until the view's speed state
# is 'ready' and a new query answers through the fast path.
sub wait_fast
{
	my ($node, $view, $timeout, $db) = @_;
	return wait_until($node, qq{
		SELECT speed_state = 'ready' AND lambda.fast_path('$view')
		FROM lambda.views WHERE view = '$view'::regclass}, 't', $timeout, $db);
}

# The view's speed state and whether the fast path is in use: "state|fast".
sub speed_state
{
	my ($node, $view, $db) = @_;
	return $node->safe_psql($db // 'postgres', qq{
		SELECT speed_state || '|' || CASE WHEN lambda.fast_path('$view') THEN 't' ELSE 'f' END
		FROM lambda.views WHERE view = '$view'::regclass});
}

1;
