<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * A call on a Client after close(): kind "client_closed", status
 * UMS_ERR_NULL_POINTER (the library would have been handed no client),
 * phase "local", nothing sent. A ValidationException, like in the Python
 * (ClientClosedError) and Java bindings.
 */
class ClientClosedException extends ValidationException
{
    public function __construct()
    {
        $message = 'the client is closed';
        parent::__construct(1, 'UMS_ERR_NULL_POINTER', $message, [
            'status' => 'UMS_ERR_NULL_POINTER',
            'kind' => 'client_closed',
            'message' => $message,
            'outcomeUnknown' => false,
            'nothingSent' => true,
            'phase' => 'local',
        ]);
    }
}
