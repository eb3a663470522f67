<?php
/* Shared by benches/php/bench_e2e.php and www/request.php: the hand-written
 * curl client (hash/hash_hmac signing, the request in wire form) and fresh
 * billNo values. */

declare(strict_types=1);

const BENCH_APP_ID = '10037e6f66f2d0f901672aa27d690006';
const BENCH_APP_KEY = '47ace12ae3b348fe93ab46cee97c6fde';
const BENCH_PATH = '/v1/netpay/bills/update-qrcode';

function bench_bill_no(string $kind): string
{
    static $n = 0, $pid = null;
    $n++;
    $pid ??= getmypid() % 100000000; // once: no system call per call
    // 26 characters, unique per process (each run has a fresh simulator), call and mode.
    return sprintf('3194%08d%s%013d', $pid, $kind, $n);
}

function bench_beijing(string $format, int $plusSeconds = 0): string
{
    return gmdate($format, time() + 8 * 3600 + $plusSeconds);
}

/** The doc page's request with today's billDate and an expireTime tomorrow. */
function bench_seed_for_today(string $seed): string
{
    $seed = preg_replace('/"billDate":"[^"]*"/', '"billDate":"' . bench_beijing('Y-m-d') . '"', $seed, 1);
    return preg_replace('/"expireTime":"[^"]*"/', '"expireTime":"' . bench_beijing('Y-m-d H:i:s', 86400) . '"', $seed, 1);
}

function bench_with_bill_no(string $request, string $billNo): string
{
    return preg_replace('/"billNo":"[^"]*"/', '"billNo":"' . $billNo . '"', $request, 1);
}

/** Authorization: OPEN-BODY-SIG, as the ChinaUMS docs describe it. */
function bench_open_body_sig(string $body): string
{
    $timestamp = bench_beijing('YmdHis');
    $nonce = bin2hex(random_bytes(16));
    $signature = base64_encode(hash_hmac('sha256', BENCH_APP_ID . $timestamp . $nonce . hash('sha256', $body), BENCH_APP_KEY, true));
    return sprintf('OPEN-BODY-SIG AppId="%s", Timestamp="%s", Nonce="%s", Signature="%s"', BENCH_APP_ID, $timestamp, $nonce, $signature);
}

/** One update-qrcode through curl handle $h; throws unless errCode SUCCESS. */
function bench_curl_call(\CurlHandle $h, string $url, string $wire, string $billNo, ?string $caFile): void
{
    $body = substr($wire, 0, strrpos($wire, '}')) . sprintf(',"billNo":"%s","billDate":"%s","requestTimestamp":"%s"}',
        $billNo, bench_beijing('Y-m-d'), bench_beijing('Y-m-d H:i:s'));
    curl_setopt_array($h, [
        CURLOPT_URL => $url . BENCH_PATH,
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_HTTPHEADER => ['Content-Type: application/json;charset=UTF-8', 'Authorization: ' . bench_open_body_sig($body), 'Expect:'],
        CURLOPT_TIMEOUT => 30,
    ]);
    if ($caFile !== null && $caFile !== '') {
        curl_setopt($h, CURLOPT_CAINFO, $caFile);
    }
    $answer = curl_exec($h);
    $status = curl_getinfo($h, CURLINFO_RESPONSE_CODE);
    if ($answer === false || $status !== 200 || !str_contains($answer, '"errCode":"SUCCESS"')) {
        throw new RuntimeException("curl: HTTP $status: " . ($answer === false ? curl_error($h) : $answer));
    }
}
