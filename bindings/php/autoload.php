<?php

declare(strict_types=1);

/*
 * PSR-4 autoloader for ChinaUms\ -> src/, for use without Composer.
 * With Composer, require vendor/autoload.php instead; this file then does
 * nothing harmful if included as well (it only registers a fallback).
 */

spl_autoload_register(static function (string $class): void {
    $prefix = 'ChinaUms\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $relative = substr($class, strlen($prefix));
    $file = __DIR__ . '/src/' . str_replace('\\', '/', $relative) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
