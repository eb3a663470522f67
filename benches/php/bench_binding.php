<?php
/*
 * The cost of one call through the PHP binding (FFI), without network.
 *
 *   UMS_LIBRARY=target/release/libums.so php benches/php/bench_binding.php
 *
 * Times ums_sign_body on a 7-byte body with a fixed timestamp and nonce (the
 * call benches/c/bench_c.c times in C):
 *
 *   php.sign_body.public      Client::signBody(): the public API (closure,
 *                             the kept FFI buffer, the call, FFI::string,
 *                             json_decode)
 *   php.sign_body.raw_newbuf  the bare FFI call with a fresh char[65536]
 *   php.sign_body.raw         the bare FFI call with a buffer made once
 *   php.sign_body.decode      decoding the result document into an array
 *                             alone (what the public API does after the call)
 *
 * Same method as benches/bench.rs (batches of ~10 ms, 31 batches, median).
 * Prints JSON lines {"row":..,"median_ns":..}.
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use ChinaUms\Client;
use ChinaUms\Internal\Library;

const APP_ID = '10037e6f66f2d0f901672aa27d690006';
const APP_KEY = '47ace12ae3b348fe93ab46cee97c6fde';
const TS = '20261127120000';
const NONCE = '0123456789abcdef0123456789abcdef';
const BODY = '{"a":1}';

function median_ns(callable $fn): float
{
    $perBatch = 1;
    while (true) {
        $t = hrtime(true);
        for ($i = 0; $i < $perBatch; $i++) {
            $fn();
        }
        $elapsed = hrtime(true) - $t;
        if ($elapsed >= 10_000_000 || $perBatch >= (1 << 24)) {
            break;
        }
        $perBatch = $elapsed > 500_000 ? (int) ($perBatch * 10_000_000 / $elapsed) + 1 : $perBatch * 4;
    }
    $samples = [];
    for ($b = 0; $b < 31; $b++) {
        $t = hrtime(true);
        for ($i = 0; $i < $perBatch; $i++) {
            $fn();
        }
        $samples[] = (hrtime(true) - $t) / $perBatch;
    }
    sort($samples);
    return $samples[15];
}

function row_ns(string $row, float $ns): void
{
    echo json_encode(['row' => $row, 'median_ns' => $ns]), "\n";
}

$config = ['environment' => 'https://gateway.invalid', 'appId' => APP_ID, 'appKey' => APP_KEY];
$client = new Client($config);
$expected = $client->signBody(BODY, TS, NONCE)['authorization'];

// The bare FFI rows use their own handle, made through the same FFI object.
$ffi = Library::ffi();
$cap = Library::DEFAULT_BUFFER;
$out = $ffi->new("char[$cap]");
$len = $ffi->new('size_t');
$slot = $ffi->new('UmsClient*');
$status = $ffi->ums_client_new(json_encode($config), FFI::addr($slot), $out, $cap, FFI::addr($len));
if ($status !== 0) {
    fwrite(STDERR, "ums_client_new failed\n");
    exit(1);
}
$handle = $slot;
$bodyLen = strlen(BODY);
$lenAddr = FFI::addr($len);

$raw = static function () use ($ffi, $handle, $bodyLen, $out, $cap, $lenAddr): int {
    return $ffi->ums_sign_body($handle, BODY, $bodyLen, TS, NONCE, $out, $cap, $lenAddr);
};
$rawNewbuf = static function () use ($ffi, $handle, $bodyLen, $cap, $len): int {
    $buf = $ffi->new("char[$cap]");
    return $ffi->ums_sign_body($handle, BODY, $bodyLen, TS, NONCE, $buf, $cap, FFI::addr($len));
};
$public = static function () use ($client): array {
    return $client->signBody(BODY, TS, NONCE);
};

$resultText = json_encode($client->signBody(BODY, TS, NONCE), JSON_UNESCAPED_SLASHES);
$decode = static function () use ($resultText): array {
    return \ChinaUms\Internal\Json::decodeObject($resultText);
};

if ($decode()['authorization'] !== $expected) {
    fwrite(STDERR, "the decode row does not give the public API's answer\n");
    exit(1);
}
if ($raw() !== 0 || json_decode(FFI::string($out, $len->cdata), true)['authorization'] !== $expected) {
    fwrite(STDERR, "the bare FFI call does not give the public API's answer\n");
    exit(1);
}

row_ns('php.sign_body.raw', median_ns($raw));
row_ns('php.sign_body.raw_newbuf', median_ns($rawNewbuf));
row_ns('php.sign_body.public', median_ns($public));
row_ns('php.sign_body.decode', median_ns($decode));
row_ns('php.loop_overhead', median_ns(static function (): void {
}));
$ffi->ums_client_free($handle);
