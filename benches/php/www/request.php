<?php
/*
 * One update-qrcode per PHP process (or per request of a web server):
 *
 *   php benches/php/www/request.php binding|curl URL [CAFILE] [SEQ]
 *
 * SEQ (a number unique per request) makes the billNo unique when one
 * server process answers many requests (router.php, php -S).
 * binding: autoload, new Client (FFI::cdef of libums unless preloaded), the
 * call; curl: curl_init, hash_hmac signing, the call. Prints SUCCESS.
 */

declare(strict_types=1);

require __DIR__ . '/common.php';

[$mode, $url] = [$argv[1], $argv[2]];
$caFile = ($argv[3] ?? '') === '' ? null : $argv[3];
$seq = $argv[4] ?? '';
$billNo = static fn (string $kind): string => $seq === ''
    ? bench_bill_no($kind)
    : sprintf('3194%08d%s%013d', getmypid() % 100000000, $kind, (int) $seq);
$seedDir = __DIR__ . '/../../data';

if ($mode === 'binding') {
    require __DIR__ . '/../../../bindings/php/autoload.php';
    $config = ['environment' => $url, 'appId' => BENCH_APP_ID, 'appKey' => BENCH_APP_KEY];
    if ($caFile !== null) {
        $config['caFile'] = $caFile;
    }
    $client = new ChinaUms\Client($config);
    $request = bench_with_bill_no(bench_seed_for_today(trim(file_get_contents("$seedDir/update_qrcode_seed.json"))), $billNo('4'));
    $answer = $client->updateQrcode($request);
    // Second line: where libums came from (the preloaded scope or FFI::cdef).
    echo ($answer['errCode'] ?? '?'), "\n", ChinaUms\Internal\Library::path(), "\n";
} else {
    $h = curl_init();
    bench_curl_call($h, $url, trim(file_get_contents("$seedDir/update_qrcode_wire.json")), $billNo('5'), $caFile);
    echo "SUCCESS\n";
}
