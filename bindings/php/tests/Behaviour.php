<?php
/*
 * The cross-language behaviour table, tests/data/behaviour.json, run against
 * the simulator. The Python suite (tests/test_behaviour.py, the reference)
 * and the Java suite run the same table with the same rules; the table's
 * "rules" member states them, and this runner follows them exactly:
 *
 * - One ums-sandbox started for the table (all cases share it). After every
 *   case: DELETE /_sandbox/faults (a fault a broken binding did not consume
 *   cannot leak into the next case), every client of the case is closed and
 *   every socket it bound is closed.
 * - demo config: the simulator's URL as environment plus the demo appId,
 *   appKey, msgSrc, msgSrcId, mid and tid. "config": merged over it key by
 *   key, a null value removes the key.
 * - setup "client": a client of the demo config. "paid_bill": also a one-off
 *   bill (getQrcode {billNo: newId(), billDate: today in Beijing,
 *   totalAmount: 100}) paid with POST /_sandbox/pay {"qrCodeId"}; its
 *   billNo/billDate are set in the request. "client_on_closed_port": a
 *   socket bound to 127.0.0.1:0 that never listens (kept open during the
 *   case, so the port cannot be taken: no race) and a client whose
 *   environment is http://127.0.0.1:<port>.
 * - request: a member whose value is the string "new" becomes newId().
 * - fault: after the setup, POST /_sandbox/faults {"path":
 *   operations[operation].path, "fault", "count": 1}, which must answer 200.
 * - actions: new_client (new Client(config)); call (the operation's method,
 *   query-bill -> queryBill, with the request array); call_text (the same
 *   with request_text as a JSON string); call_after_close (close the setup's
 *   client, then call); take_answer (Client::takeAnswer(answer_id), i.e.
 *   ums_take_answer); verify_notify (Notify::verify(key, body));
 *   client_verify_notify (a client of the demo config + notifyKey = the
 *   notification's key + the case's config, then $client->verifyNotify()).
 * - notifications: valid_sha256 / valid_md5: the first notify_sign vector
 *   with valid: true whose form_body's signType field is SHA256 / is absent
 *   or MD5 (its form_body and key); raw: the case's body with the demo
 *   notifyKey.
 * - tampers, on the body text, pairs split on "&" and compared by their raw
 *   name, order kept: sign (the sign value replaced by as many "0"),
 *   drop_sign (the sign pair removed), sign_type_<X> (the signType value
 *   replaced by X), repeat_<name> (the first <name>= pair appended again).
 * - expect: class = the exception is an instance of that class of the
 *   table's "classes" (ChinaUms\Exception\<Name>Exception, "base" being
 *   UmsException) and of none of its descendants there; parents: an
 *   instance of each; status = getStatusName(); kind, field, nothingSent,
 *   outcomeUnknown, phase, errCode, errMsg, httpStatus, settled, stateField,
 *   state, reason = the getter's value (getKind(), isNothingSent(), ...),
 *   identical to the JSON value, type included (true is not 1);
 *   messageContains: each string is in getMessage(); responseHas:
 *   getResponse() is an array with that key; requestsSent: the increase of
 *   the simulator's GET /_sandbox/stats "requests" count for the operation's
 *   path (all paths summed when the case has no operation) over the action
 *   alone (read after setup and fault, and after the action).
 * - Anything the runner does not know (action, setup, notification, tamper,
 *   case member, expect member) is a mismatch, never skipped. A case that
 *   throws no exception is a mismatch. All mismatches of all cases are
 *   listed.
 */

declare(strict_types=1);

use ChinaUms\Client;
use ChinaUms\Exception\UmsException;
use ChinaUms\Notify;

/** A case that could not be run as the table says (a runner-level problem). */
final class BehaviourMismatch extends Exception
{
}

final class Behaviour
{
    public const CASE_MEMBERS = ['name', 'action', 'setup', 'operation', 'request', 'request_text', 'config',
        'fault', 'answer_id', 'notification', 'tamper', 'body', 'expect'];

    /** expect member => getter of the PHP exception. */
    public const GETTERS = [
        'status' => 'getStatusName',
        'kind' => 'getKind',
        'field' => 'getField',
        'nothingSent' => 'isNothingSent',
        'outcomeUnknown' => 'isOutcomeUnknown',
        'phase' => 'getPhase',
        'errCode' => 'getErrCode',
        'errMsg' => 'getErrMsg',
        'httpStatus' => 'getHttpStatus',
        'settled' => 'isSettled',
        'stateField' => 'getStateField',
        'state' => 'getState',
        'reason' => 'getReason',
    ];

    public const SPECIAL = ['class', 'parents', 'messageContains', 'responseHas', 'requestsSent'];

    /** @var array<string, mixed> */
    private array $table;
    private Simulator $sim;
    /** @var array<string, mixed> */
    private array $case;
    /** @var list<Client> */
    private array $clients = [];
    /** @var list<Socket> */
    private array $sockets = [];

    /** @param array<string, mixed> $table @param array<string, mixed> $case */
    private function __construct(array $table, Simulator $sim, array $case)
    {
        $this->table = $table;
        $this->sim = $sim;
        $this->case = $case;
    }

    /** @return array<string, mixed> */
    public static function load(): array
    {
        $text = (string) file_get_contents(dirname(__DIR__, 3) . '/tests/data/behaviour.json');
        return json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Runs every case: [cases run, one line per mismatch].
     *
     * @param array<string, mixed> $table
     * @return array{0: int, 1: list<string>}
     */
    public static function runTable(array $table, Simulator $sim): array
    {
        $mismatches = [];
        $count = 0;
        foreach ($table['cases'] as $case) {
            $count++;
            $name = is_string($case['name'] ?? null) ? $case['name'] : "case $count";
            $unknown = array_values(array_diff(array_keys($case), self::CASE_MEMBERS));
            sort($unknown);
            if ($unknown !== []) {
                $mismatches[] = "$name: unknown case members " . json_encode($unknown);
                continue;
            }
            if (!is_array($case['expect'] ?? null) || $case['expect'] === []) {
                $mismatches[] = "$name: no expect";
                continue;
            }
            $run = new self($table, $sim, $case);
            try {
                try {
                    [$error, $result, $sent] = $run->act();
                    $problems = self::check($table, $case, $error, $result, $sent);
                } finally {
                    $run->close();
                }
            } catch (BehaviourMismatch $e) {
                $problems = [$e->getMessage()];
            } catch (Throwable $e) { // a setup that failed: reported with the rest
                $problems = [get_class($e) . ': ' . $e->getMessage()];
            }
            foreach ($problems as $problem) {
                $mismatches[] = "$name: $problem";
            }
        }
        return [$count, $mismatches];
    }

    /** The PHP exception class of a class name of the table. */
    public static function phpClass(string $name): string
    {
        $class = $name === 'base' ? UmsException::class : 'ChinaUms\\Exception\\' . $name . 'Exception';
        if (!class_exists($class) || ($class !== UmsException::class && !is_subclass_of($class, UmsException::class))) {
            throw new BehaviourMismatch("class \"$name\" has no PHP exception $class");
        }
        return $class;
    }

    /** Identical as JSON values, types included (true is not 1, 200 is not "200"). */
    public static function same(mixed $actual, mixed $expected): bool
    {
        return $actual === $expected;
    }

    private static function show(mixed $value): string
    {
        return (string) json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    }

    /**
     * The mismatches of one case's outcome against its expect.
     *
     * @param array<string, mixed> $table
     * @param array<string, mixed> $case
     * @return list<string>
     */
    public static function check(array $table, array $case, ?UmsException $error, mixed $result, ?int $sent): array
    {
        $expect = $case['expect'];
        if ($error === null) {
            return ['no exception thrown (returned ' . substr(self::show($result), 0, 200) . ')'];
        }
        $problems = [];
        $classes = $table['classes'];
        $descendants = static function (string $name) use ($classes): array {
            $found = [];
            foreach ($classes as $other => $parent) {
                while ($parent !== null) {
                    if ($parent === $name) {
                        $found[] = $other;
                        break;
                    }
                    $parent = $classes[$parent] ?? null;
                }
            }
            return $found;
        };
        $short = (new ReflectionClass($error))->getShortName();
        foreach ($expect as $member => $expected) {
            if ($member === 'class') {
                if (!is_string($expected) || !array_key_exists($expected, $classes)) {
                    $problems[] = 'class ' . self::show($expected) . ' is not in the table\'s "classes"';
                    continue;
                }
                $class = self::phpClass($expected);
                $finer = array_filter($descendants($expected), fn (string $d): bool => is_a($error, self::phpClass($d)));
                if (!($error instanceof $class) || $finer !== []) {
                    $problems[] = "class: expected $expected, got $short";
                }
            } elseif ($member === 'parents') {
                foreach ($expected as $parent) {
                    $class = self::phpClass($parent);
                    if (!($error instanceof $class)) {
                        $problems[] = "parents: $short is not a $parent";
                    }
                }
            } elseif ($member === 'messageContains') {
                foreach ($expected as $text) {
                    if (!str_contains($error->getMessage(), $text)) {
                        $problems[] = 'message ' . self::show($error->getMessage()) . ' lacks ' . self::show($text);
                    }
                }
            } elseif ($member === 'responseHas') {
                $response = $error->getResponse();
                if (!is_array($response) || !array_key_exists($expected, $response)) {
                    $problems[] = 'response ' . self::show($response) . ' has no ' . self::show($expected);
                }
            } elseif ($member === 'requestsSent') {
                if (!self::same($sent, $expected)) {
                    $problems[] = 'requestsSent: expected ' . self::show($expected) . ', got ' . self::show($sent);
                }
            } elseif (isset(self::GETTERS[$member])) {
                $getter = self::GETTERS[$member];
                if (!method_exists($error, $getter)) {
                    $problems[] = "$member: the exception has no method $getter()";
                    continue;
                }
                $actual = $error->$getter();
                if (!self::same($actual, $expected)) {
                    $problems[] = "$member: expected " . self::show($expected) . ', got ' . self::show($actual);
                }
            } else {
                $problems[] = "unknown expect member \"$member\"";
            }
        }
        return $problems;
    }

    /** Closes the case's clients and sockets and clears the simulator's faults. */
    private function close(): void
    {
        foreach ($this->clients as $client) {
            $client->close();
        }
        foreach ($this->sockets as $socket) {
            socket_close($socket);
        }
        [$status, $body] = $this->http('DELETE', '/_sandbox/faults', null);
        if ($status !== 200) {
            throw new BehaviourMismatch("DELETE /_sandbox/faults answered $status: $body");
        }
    }

    /**
     * A request to a simulator control endpoint: [HTTP status, body].
     *
     * @param array<string, mixed>|null $json
     * @return array{0: int, 1: string}
     */
    private function http(string $method, string $path, ?array $json): array
    {
        $options = ['method' => $method, 'ignore_errors' => true, 'timeout' => 10];
        if ($json !== null) {
            $options['header'] = "Content-Type: application/json\r\n";
            $options['content'] = json_encode($json, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        }
        $body = @file_get_contents($this->sim->url() . $path, false, stream_context_create(['http' => $options]));
        if ($body === false) {
            throw new BehaviourMismatch("$method $path: no answer from the simulator");
        }
        /** @var list<string> $http_response_header */
        $status = preg_match('~^HTTP/\S+ (\d{3})~', $http_response_header[0] ?? '', $m) === 1 ? (int) $m[1] : 0;
        return [$status, $body];
    }

    /** @return array<string, mixed> the demo config, with $overlay merged over it key by key (null removes) */
    private function config(?array $overlay, array $extra = []): array
    {
        $config = $this->sim->config(['msgSrc' => Simulator::MSG_SRC] + $extra);
        foreach ($overlay ?? [] as $key => $value) {
            if ($value === null) {
                unset($config[$key]);
            } else {
                $config[$key] = $value;
            }
        }
        return $config;
    }

    /** @param array<string, mixed> $config */
    private function client(array $config): Client
    {
        $client = new Client($config);
        $this->clients[] = $client;
        return $client;
    }

    private function path(): ?string
    {
        $operation = $this->case['operation'] ?? null;
        if ($operation === null) {
            return null;
        }
        if (!isset($this->table['operations'][$operation]['path'])) {
            throw new BehaviourMismatch('operation ' . self::show($operation) . ' is not in the table\'s "operations"');
        }
        return (string) $this->table['operations'][$operation]['path'];
    }

    private function requests(): int
    {
        [$status, $body] = $this->http('GET', '/_sandbox/stats', null);
        $counts = json_decode($body, true)['requests'] ?? null;
        if ($status !== 200 || !is_array($counts)) {
            throw new BehaviourMismatch("GET /_sandbox/stats answered $status: $body");
        }
        $path = $this->path();
        return $path !== null ? (int) ($counts[$path] ?? 0) : (int) array_sum($counts);
    }

    /** The Client method of the case's operation (query-bill -> queryBill). */
    private function method(): string
    {
        $operation = $this->case['operation'] ?? null;
        if (!is_string($operation)) {
            throw new BehaviourMismatch('the action needs an operation');
        }
        $method = lcfirst(str_replace(' ', '', ucwords(str_replace('-', ' ', $operation))));
        if (!isset(Client::OPERATIONS[$method])) {
            throw new BehaviourMismatch("the Client has no method for operation \"$operation\"");
        }
        return $method;
    }

    /**
     * The setup's client (or null) and the request with the setup's values.
     *
     * @return array{0: Client|null, 1: array<string, mixed>}
     */
    private function setup(): array
    {
        $setup = $this->case['setup'] ?? null;
        $request = $this->case['request'] ?? [];
        if ($setup === null) {
            return [null, $request];
        }
        if ($setup === 'client_on_closed_port') {
            if (!function_exists('socket_create')) {
                throw new BehaviourMismatch('setup client_on_closed_port needs the PHP sockets extension');
            }
            $socket = socket_create(AF_INET, SOCK_STREAM, SOL_TCP);
            if ($socket === false) {
                throw new BehaviourMismatch('socket_create failed');
            }
            $this->sockets[] = $socket;
            // Bound, never listening: connections are refused.
            if (!socket_bind($socket, '127.0.0.1', 0) || !socket_getsockname($socket, $address, $port)) {
                throw new BehaviourMismatch('could not bind 127.0.0.1:0');
            }
            return [$this->client($this->config(['environment' => "http://127.0.0.1:$port"])), $request];
        }
        if ($setup !== 'client' && $setup !== 'paid_bill') {
            throw new BehaviourMismatch('unknown setup ' . self::show($setup));
        }
        $client = $this->client($this->config(null));
        if ($setup === 'paid_bill') {
            $bill = [
                'billNo' => $client->newId(),
                'billDate' => (new DateTime('now', new DateTimeZone('+08:00')))->format('Y-m-d'),
                'totalAmount' => 100,
            ];
            $created = $client->getQrcode($bill);
            [$status, $body] = $this->http('POST', '/_sandbox/pay', ['qrCodeId' => $created['qrCodeId'] ?? null]);
            if ($status !== 200) {
                throw new BehaviourMismatch("POST /_sandbox/pay answered $status: $body");
            }
            $request['billNo'] = $bill['billNo'];
            $request['billDate'] = $bill['billDate'];
        }
        foreach ($request as $key => $value) {
            if ($value === 'new') {
                $request[$key] = $client->newId();
            }
        }
        return [$client, $request];
    }

    private function queueFault(): void
    {
        $fault = $this->case['fault'] ?? null;
        if ($fault === null) {
            return;
        }
        $path = $this->path();
        if ($path === null) {
            throw new BehaviourMismatch('a fault needs an operation');
        }
        [$status, $body] = $this->http('POST', '/_sandbox/faults', ['path' => $path, 'fault' => $fault, 'count' => 1]);
        if ($status !== 200) {
            throw new BehaviourMismatch("POST /_sandbox/faults $fault answered $status: $body");
        }
    }

    /** @return array{0: string, 1: string} the key and body of the case's notification, tampered */
    private function notification(): array
    {
        $kind = $this->case['notification'] ?? null;
        if ($kind === 'raw') {
            if (!array_key_exists('body', $this->case)) {
                throw new BehaviourMismatch('notification raw needs a body');
            }
            [$key, $body] = [Simulator::NOTIFY_KEY, (string) $this->case['body']];
        } elseif ($kind === 'valid_sha256' || $kind === 'valid_md5') {
            [$key, $body] = self::notificationVector($kind);
        } else {
            throw new BehaviourMismatch('unknown notification ' . self::show($kind));
        }
        if (($this->case['tamper'] ?? null) !== null) {
            $body = self::tamper($body, (string) $this->case['tamper']);
        }
        return [$key, $body];
    }

    /** @return array{0: string, 1: string} key and form body of the first valid notify_sign vector of that signType */
    public static function notificationVector(string $kind): array
    {
        $vectors = json_decode((string) file_get_contents(dirname(__DIR__, 3) . '/tests/data/vectors.json'), true, 512, JSON_THROW_ON_ERROR)['notify_sign'];
        $wanted = ['valid_sha256' => 'SHA256', 'valid_md5' => 'MD5'][$kind];
        foreach ($vectors as $vector) {
            if (($vector['valid'] ?? null) !== true || !isset($vector['form_body'])) {
                continue;
            }
            $names = [];
            foreach (explode('&', $vector['form_body']) as $pair) {
                if (str_contains($pair, '=')) {
                    [$name, $value] = explode('=', $pair, 2);
                    $names[$name] = $value;
                }
            }
            if (($names['signType'] ?? 'MD5') === $wanted) {
                return [$vector['key'], $vector['form_body']];
            }
        }
        throw new BehaviourMismatch("tests/data/vectors.json has no valid $wanted notification");
    }

    public static function tamper(string $body, string $how): string
    {
        $pairs = explode('&', $body);
        $indexOf = static function (string $field) use (&$pairs, $how): int {
            foreach ($pairs as $i => $pair) {
                if (explode('=', $pair, 2)[0] === $field) {
                    return $i;
                }
            }
            throw new BehaviourMismatch("tamper \"$how\": the body has no $field field");
        };
        if ($how === 'sign') {
            $i = $indexOf('sign');
            $value = explode('=', $pairs[$i], 2)[1] ?? '';
            $pairs[$i] = 'sign=' . str_repeat('0', strlen($value));
        } elseif ($how === 'drop_sign') {
            array_splice($pairs, $indexOf('sign'), 1);
        } elseif (str_starts_with($how, 'sign_type_')) {
            $pairs[$indexOf('signType')] = 'signType=' . substr($how, strlen('sign_type_'));
        } elseif (str_starts_with($how, 'repeat_')) {
            $pairs[] = $pairs[$indexOf(substr($how, strlen('repeat_')))];
        } else {
            throw new BehaviourMismatch("unknown tamper \"$how\"");
        }
        return implode('&', $pairs);
    }

    /**
     * Runs the case: [the exception thrown or null, the result, requests sent].
     *
     * @return array{0: UmsException|null, 1: mixed, 2: int}
     */
    private function act(): array
    {
        $action = $this->case['action'] ?? null;
        [$client, $request] = $this->setup();
        $this->queueFault();
        if ($action === 'new_client') {
            $config = $this->config($this->case['config'] ?? null);
            $thunk = fn () => $this->client($config)->info();
        } elseif ($action === 'call' || $action === 'call_text' || $action === 'call_after_close') {
            if ($client === null) {
                throw new BehaviourMismatch("action $action needs a setup with a client");
            }
            $method = $this->method();
            $argument = $action === 'call_text' ? (string) $this->case['request_text'] : $request;
            if ($action === 'call_after_close') {
                $client->close();
            }
            $thunk = fn () => $client->$method($argument);
        } elseif ($action === 'take_answer') {
            if ($client === null) {
                throw new BehaviourMismatch('action take_answer needs a setup with a client');
            }
            $answerId = (string) $this->case['answer_id'];
            $thunk = fn () => $client->takeAnswer($answerId);
        } elseif ($action === 'verify_notify') {
            [$key, $body] = $this->notification();
            $thunk = fn () => Notify::verify($key, $body);
        } elseif ($action === 'client_verify_notify') {
            [$key, $body] = $this->notification();
            $verifier = $this->client($this->config($this->case['config'] ?? null, ['notifyKey' => $key]));
            $thunk = fn () => $verifier->verifyNotify($body);
        } else {
            throw new BehaviourMismatch('unknown action ' . self::show($action));
        }
        $before = $this->requests();
        $error = null;
        $result = null;
        try {
            $result = $thunk();
        } catch (UmsException $e) {
            $error = $e;
        }
        return [$error, $result, $this->requests() - $before];
    }
}
