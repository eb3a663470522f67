<?php
/*
 * A misbehaving "gateway" on 127.0.0.1 for the failure tests. Prints
 * "PORT <n>" on its first line, then serves at most 4 connections or 20
 * seconds, whichever comes first, and exits.
 *
 *   php fake_server.php garbage       accept, read what the client sends first (a TLS
 *                                     ClientHello), answer non-TLS, non-HTTP bytes, close
 *   php fake_server.php hangup        accept, read the whole request, close without answering
 */

declare(strict_types=1);

$mode = $argv[1] ?? 'garbage';
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
if ($server === false) {
    fwrite(STDERR, "cannot listen: $errstr\n");
    exit(1);
}
$name = stream_socket_get_name($server, false);
echo 'PORT ', substr($name, strrpos($name, ':') + 1), "\n";
fflush(STDOUT);

$deadline = microtime(true) + 20;
for ($served = 0; $served < 4 && microtime(true) < $deadline; ) {
    $conn = @stream_socket_accept($server, max(0.1, $deadline - microtime(true)));
    if ($conn === false) {
        continue;
    }
    $served++;
    stream_set_timeout($conn, 5);
    if ($mode === 'garbage') {
        // Read first, so that closing sends FIN, not a reset that could
        // overtake the garbage.
        fread($conn, 16384);
        fwrite($conn, "this is not TLS, nor HTTP\r\n\r\n");
    } else {
        read_request($conn);
    }
    fclose($conn);
}

/** Reads the request head and its Content-Length body, so the client has sent everything. */
function read_request($conn): void
{
    $data = '';
    while (!str_contains($data, "\r\n\r\n")) {
        $chunk = fread($conn, 8192);
        if ($chunk === '' || $chunk === false) {
            return;
        }
        $data .= $chunk;
    }
    [$head, $body] = explode("\r\n\r\n", $data, 2);
    $length = preg_match('/^content-length:\s*(\d+)/mi', $head, $m) ? (int) $m[1] : 0;
    while (strlen($body) < $length) {
        $chunk = fread($conn, 8192);
        if ($chunk === '' || $chunk === false) {
            return;
        }
        $body .= $chunk;
    }
}
