<?php
/* The `php -S` router of benches/php/bench_e2e.php: one update-qrcode per
 * HTTP request, ?mode=binding|curl&url=..&ca=..&seq=.. (see request.php). */
$argv = ['request.php', $_GET['mode'] ?? '', $_GET['url'] ?? '', $_GET['ca'] ?? '', $_GET['seq'] ?? ''];
require __DIR__ . '/request.php';
