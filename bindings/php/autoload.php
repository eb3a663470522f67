<?php

declare(strict_types=1);

/*
 * Autoloading for tests, examples and Composer-less installs: Composer's
 * vendor/autoload.php when it exists next to this file, else a minimal
 * PSR-4 loader for ChinaUms\ -> src/ (the mapping composer.json declares).
 */

if (is_file(__DIR__ . '/vendor/autoload.php')) {
    require_once __DIR__ . '/vendor/autoload.php';
    return;
}

spl_autoload_register(static function (string $class): void {
    $prefix = 'ChinaUms\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
