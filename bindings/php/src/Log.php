<?php

declare(strict_types=1);

namespace ChinaUms;

use ChinaUms\Internal\Library;

/**
 * Forwards libums's log lines to a PHP callable (opt-in, process-wide).
 *
 * The library logs one line per call (path, outcome, errCode, duration) and
 * never the appKey, signatures, tokens, the notification key, bodies or
 * real-name values. PHP has no threads, and libums logs on the thread that
 * makes the call, so the callable runs inside the Client call that logged.
 * The library holds no lock while the callable runs: it may call back into
 * the binding (Log::enable() another sink, Log::disable(), run a Client
 * call). Guard against recursion yourself: a call made from the sink logs
 * too, into the sink installed at that moment.
 *
 *     Log::enable(fn (int $level, string $message) => error_log("[ums] $message"), Log::INFO);
 */
final class Log
{
    public const ERROR = 1;
    public const WARN = 2;
    public const INFO = 3;
    public const DEBUG = 4;

    /**
     * Every callback ever installed stays referenced until the end of the
     * process: the library must never call a freed trampoline.
     *
     * @var list<mixed>
     */
    private static array $installed = [];
    private static bool $shutdownRegistered = false;

    /**
     * @param callable(int, string): void $sink receives (level, message); what it
     *        throws is swallowed (an exception must not unwind through C)
     * @param int $maxLevel Log::ERROR .. Log::DEBUG
     */
    public static function enable(callable $sink, int $maxLevel = self::INFO): void
    {
        $ffi = Library::ffi();
        $callback = static function ($userdata, $level, $message) use ($sink): void {
            try {
                $sink((int) $level, Library::cstring($message));
            } catch (\Throwable) {
                // Nothing may cross back into the library.
            }
        };
        $status = $ffi->ums_set_log_callback($callback, null, $maxLevel);
        if ($status !== Library::OK) {
            throw Library::exception($status, '{"message":"ums_set_log_callback refused the level ' . $maxLevel . ' (1..4)","field":"maxLevel"}');
        }
        self::$installed[] = $callback;
        if (!self::$shutdownRegistered) {
            // No callback into PHP while it shuts down.
            register_shutdown_function([self::class, 'disable']);
            self::$shutdownRegistered = true;
        }
    }

    /** Stops forwarding. */
    public static function disable(): void
    {
        Library::ffi()->ums_set_log_callback(null, null, self::ERROR);
    }
}
