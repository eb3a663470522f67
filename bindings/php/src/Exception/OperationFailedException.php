<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The gateway processed the request and reports a final failure
 * (UMS_ERR_OPERATION_FAILED): e.g. a refund whose refundStatus is FAIL.
 * Nothing moved; a new request (with a new identifier) may be sent.
 *
 * getStateField() names the answer's state field ("refundStatus"),
 * getState() its value ("FAIL"), getResponse() the gateway's whole answer;
 * isSettled() is true.
 */
class OperationFailedException extends UmsException
{
}
