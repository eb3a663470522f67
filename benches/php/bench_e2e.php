<?php
/*
 * What a PHP user would pick instead: the FFI binding end to end vs. curl,
 * in the same process, against the same ums-sandbox.
 *
 *   UMS_LIBRARY=.../libums.so php benches/php/bench_e2e.php URL SEED WIRE ROUNDS ROUND_MS [CAFILE]
 *
 * Every call is update-qrcode with a fresh billNo, checked for errCode
 * SUCCESS. The modes take turns for ROUND_MS each, ROUNDS rounds; each row
 * is the median calls/s over rounds:
 *
 *   php.e2e.binding      Client::updateQrcode(string): one client, kept-alive
 *                        connection; the library fills, checks, signs
 *   php.e2e.curl_reused  one curl handle reused (kept alive), hash/hash_hmac
 *                        signing in PHP
 *   php.e2e.curl_new     curl_init per call (a new connection, and TLS
 *                        handshake on https, per call), same signing
 *
 * Then a fresh PHP process per request (php www/request.php, one call,
 * interleaved, median wall time of 15 runs each): php.process.binding,
 * php.process.curl; and one HTTP request per call to a web server with the
 * package preloaded (php -S with opcache.preload=bindings/php/preload.php
 * and ffi.preload of the library's header, as php-fpm would run it; fresh
 * request state each time, libums already mapped), median of 30 each:
 * php.request.binding, php.request.curl. The curl clients send the request
 * already in wire form (WIRE, plus billNo, billDate, requestTimestamp) and
 * check nothing else. Prints JSON lines.
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';
require __DIR__ . '/www/common.php';

use ChinaUms\Client;

[$url, $seedPath, $wirePath, $rounds, $roundMs] = array_slice($argv, 1, 5);
$caFile = $argv[6] ?? null;
$rounds = (int) $rounds;
$roundMs = (int) $roundMs;
$wire = trim(file_get_contents($wirePath));
$request = bench_seed_for_today(trim(file_get_contents($seedPath)));

$config = ['environment' => $url, 'appId' => BENCH_APP_ID, 'appKey' => BENCH_APP_KEY];
if ($caFile !== null) {
    $config['caFile'] = $caFile;
}
$client = new Client($config);
$handle = curl_init();

$binding = static function () use ($client, $request): void {
    $answer = $client->updateQrcode(bench_with_bill_no($request, bench_bill_no('1')));
    if (($answer['errCode'] ?? null) !== 'SUCCESS') {
        throw new RuntimeException('binding: ' . json_encode($answer));
    }
};
$curlReused = static function () use ($handle, $url, $wire, $caFile): void {
    bench_curl_call($handle, $url, $wire, bench_bill_no('2'), $caFile);
};
$curlNew = static function () use ($url, $wire, $caFile): void {
    $h = curl_init();
    bench_curl_call($h, $url, $wire, bench_bill_no('3'), $caFile);
    curl_close($h);
};

function round_rate(callable $fn, int $ms): float
{
    $n = 0;
    $t = hrtime(true);
    $end = $t + $ms * 1_000_000;
    do {
        $fn();
        $n++;
    } while (hrtime(true) < $end);
    return $n / ((hrtime(true) - $t) / 1e9);
}

function median(array $xs): float
{
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
}

$modes = ['php.e2e.binding' => $binding, 'php.e2e.curl_reused' => $curlReused, 'php.e2e.curl_new' => $curlNew];
foreach ($modes as $fn) { // warm-up, and a check that every mode succeeds
    for ($i = 0; $i < 20; $i++) {
        $fn();
    }
}
$rates = array_fill_keys(array_keys($modes), []);
for ($r = 0; $r < $rounds; $r++) {
    foreach ($modes as $name => $fn) {
        $rates[$name][] = round_rate($fn, $roundMs);
    }
}
foreach ($rates as $name => $xs) {
    echo json_encode(['row' => $name, 'value' => median($xs), 'unit' => 'calls/s',
        'rounds' => array_map(static fn ($x) => round($x, 1), $xs)]), "\n";
}
$client->close();

// -- a fresh PHP process per request -------------------------------------------
$script = __DIR__ . '/www/request.php';
$times = ['binding' => [], 'curl' => []];
$env = getenv();
for ($i = 0; $i < 15; $i++) {
    foreach (['binding', 'curl'] as $mode) {
        $t = hrtime(true);
        $p = proc_open([PHP_BINARY, $script, $mode, $url, $caFile ?? ''], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $rc = proc_close($p);
        $elapsed = hrtime(true) - $t;
        if ($rc !== 0 || strtok($out, "\n") !== 'SUCCESS') {
            fwrite(STDERR, "request.php $mode: rc $rc: $out $err\n");
            exit(1);
        }
        if ($i > 0) { // the first run warms the page cache
            $times[$mode][] = $elapsed;
        }
    }
}
foreach ($times as $mode => $xs) {
    echo json_encode(['row' => "php.process.$mode", 'median_ns' => median($xs)]), "\n";
}

// -- one request per call in a web server with the package preloaded ----------------
$library = getenv('UMS_LIBRARY');
if ($library === false || $library === '') {
    fwrite(STDERR, "bench_e2e.php: no UMS_LIBRARY: the preloaded-server rows are skipped\n");
    exit(0);
}
$header = tempnam(sys_get_temp_dir(), 'ums-ffi-');
file_put_contents($header, \ChinaUms\Internal\Library::ffiHeader(realpath($library)));
$probe = stream_socket_server('tcp://127.0.0.1:0');
$port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
fclose($probe);
$ini = ['opcache.enable=1', 'opcache.enable_cli=1', 'opcache.preload=' . realpath(__DIR__ . '/../../bindings/php/preload.php'),
    'ffi.preload=' . $header];
if (function_exists('posix_geteuid') && posix_geteuid() === 0) {
    $ini[] = 'opcache.preload_user=' . posix_getpwuid(0)['name'];
}
$command = [PHP_BINARY];
foreach ($ini as $setting) {
    array_push($command, '-d', $setting);
}
array_push($command, '-S', "127.0.0.1:$port", __DIR__ . '/www/router.php');
$server = proc_open($command, [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $serverPipes);
$get = curl_init();
$request = static function (string $mode, int $seq) use ($get, $port, $url, $caFile): string {
    curl_setopt_array($get, [CURLOPT_URL => "http://127.0.0.1:$port/?" . http_build_query(
        ['mode' => $mode, 'url' => $url, 'ca' => $caFile ?? '', 'seq' => $seq]), CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30]);
    return (string) curl_exec($get);
};
for ($i = 0; $i < 100 && @fsockopen('127.0.0.1', $port) === false; $i++) {
    usleep(50_000);
}
$times = ['binding' => [], 'curl' => []];
$seq = 0;
for ($i = 0; $i < 31; $i++) {
    foreach (['binding', 'curl'] as $mode) {
        $t = hrtime(true);
        $answer = $request($mode, ++$seq);
        $elapsed = hrtime(true) - $t;
        $lines = explode("\n", $answer);
        if ($lines[0] !== 'SUCCESS' || ($mode === 'binding' && !str_contains($lines[1] ?? '', 'preload'))) {
            fwrite(STDERR, "bench_e2e.php: the preloaded server's $mode request: " . substr($answer, 0, 300) . "\n");
            proc_terminate($server);
            exit(1);
        }
        if ($i > 0) { // the first request of each mode warms the server
            $times[$mode][] = $elapsed;
        }
    }
}
proc_terminate($server);
proc_close($server);
unlink($header);
foreach ($times as $mode => $xs) {
    echo json_encode(['row' => "php.request.$mode", 'median_ns' => median($xs)]), "\n";
}
