<?php
/*
 * The ums-sandbox simulator as a child process, for the tests: started with
 * `--port 0`, its URL read from the first line it prints (a blocking read),
 * stopped with SIGTERM. The program is $UMS_SANDBOX, else
 * target/release/ums-sandbox of the source checkout (`make lib` builds it).
 */

declare(strict_types=1);

final class Simulator
{
    /** The demo app and merchant the simulator knows (public, simulator only). */
    public const APP_ID = '10037e6f66f2d0f901672aa27d690006';
    public const APP_KEY = '47ace12ae3b348fe93ab46cee97c6fde';
    public const NOTIFY_KEY = 'fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR';
    public const MID = '898340149000005';
    public const TID = '00000001';
    public const MSG_SRC_ID = '3194';
    public const MSG_SRC = 'WWW.TEST.COM';

    /** @var resource|null */
    private $process;
    /** @var resource|null */
    private $stdout;
    private string $url;

    private function __construct()
    {
    }

    /** The program to run: $UMS_SANDBOX, else the checkout's target/release/ums-sandbox. */
    public static function program(): string
    {
        $env = getenv('UMS_SANDBOX');
        if (is_string($env) && $env !== '') {
            return $env;
        }
        return dirname(__DIR__, 3) . '/target/release/ums-sandbox';
    }

    /** Starts a simulator on a free port; returns once it listens. */
    public static function start(): self
    {
        $program = self::program();
        if (!is_file($program) || !is_executable($program)) {
            throw new RuntimeException("ums-sandbox not found at $program: run `make lib` or set UMS_SANDBOX");
        }
        $process = proc_open(
            [$program, '--port', '0', '--quiet'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => STDERR],
            $pipes
        );
        if (!is_resource($process)) {
            throw new RuntimeException("could not start $program");
        }
        $simulator = new self();
        $simulator->process = $process;
        $simulator->stdout = $pipes[1];
        // Blocks until the simulator listens (or exits, giving EOF).
        $line = fgets($pipes[1]);
        if (!is_string($line) || preg_match('~^ums-sandbox listening on (http://\S+)\s*$~', $line, $m) !== 1) {
            $simulator->stop();
            throw new RuntimeException("$program did not print its URL; first line: " . var_export($line, true));
        }
        $simulator->url = $m[1];
        return $simulator;
    }

    /** The base URL, e.g. http://127.0.0.1:40123. */
    public function url(): string
    {
        return $this->url;
    }

    /**
     * A client configuration for this simulator and its demo app: environment,
     * appId, appKey, mid, tid and msgSrcId (for newId()), plus $extra.
     *
     * @param array<string, mixed> $extra
     * @return array<string, mixed>
     */
    public function config(array $extra = []): array
    {
        return $extra + [
            'environment' => $this->url,
            'appId' => self::APP_ID,
            'appKey' => self::APP_KEY,
            'mid' => self::MID,
            'tid' => self::TID,
            'msgSrcId' => self::MSG_SRC_ID,
        ];
    }

    /** Stops the simulator and waits for it to exit. Idempotent. */
    public function stop(): void
    {
        if ($this->process === null) {
            return;
        }
        proc_terminate($this->process);
        if (is_resource($this->stdout)) {
            fclose($this->stdout);
        }
        proc_close($this->process);
        $this->process = null;
        $this->stdout = null;
    }

    public function __destruct()
    {
        $this->stop();
    }
}
