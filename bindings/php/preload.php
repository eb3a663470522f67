<?php

declare(strict_types=1);

/*
 * opcache.preload script of the chinaums/ums package, for php-fpm (and any
 * SAPI) with the default ffi.enable=preload:
 *
 *     opcache.enable=1
 *     opcache.preload=/path/to/vendor/chinaums/ums/preload.php
 *     opcache.preload_user=www-data   ; the user php-fpm runs as (needed when started as root)
 *
 * It compiles and links every class of the package (preloaded code may use
 * the FFI API under ffi.enable=preload) and loads libums once, with
 * FFI::load, under the scope "ums"; ChinaUms\Client then finds it with
 * FFI::scope('ums') in every request. The library is looked for as without
 * preloading (ChinaUms\Internal\Library::candidates()): $UMS_LIBRARY of the
 * process that preloads, then the package's lib/libums.so (`make php-lib`),
 * then a checkout's target/release/, then the system's library path. A
 * missing or wrong library stops the SAPI at start-up with the reason.
 */

require_once __DIR__ . '/autoload.php';

(static function (string $src): void {
    $files = [];
    $tree = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($src, FilesystemIterator::SKIP_DOTS));
    foreach ($tree as $file) {
        if ($file->getExtension() === 'php') {
            $files[] = substr($file->getPathname(), strlen($src) + 1, -strlen('.php'));
        }
    }
    sort($files);
    foreach ($files as $relative) {
        // Autoloading links each class to its parents: a class preloaded
        // without them would be left out with a warning.
        $class = 'ChinaUms\\' . str_replace('/', '\\', $relative);
        if (!class_exists($class) && !interface_exists($class) && !trait_exists($class)) {
            throw new LogicException("preload: $src/$relative.php does not declare $class");
        }
    }
})(__DIR__ . '/src');

ChinaUms\Internal\Library::preload();
